// Small text helpers for config errors: quoting, "a, b or c" lists, closest-name hints.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace onair::config::detail {

// `"value"` with quotes, backslashes and control characters escaped, cut at 80 characters,
// so one bad value never breaks the one-line error format.
std::string quoted(std::string_view value);

// "a, b or c" (each name as written, unquoted).
std::string join_or(std::span<const std::string_view> names);

// Edit distance (Damerau, optimal string alignment), case-insensitive.
int edit_distance(std::string_view a, std::string_view b);

// The known name closest to `word` when it is close enough to be a likely typo.
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> known);

// Parses a whole decimal integer ("12", "-3"); nullopt for anything else ("1e3", "0x10", " 1").
std::optional<long long> parse_integer(std::string_view text);

// Parses a whole decimal number ("0.5", "2", "1e1"); nullopt for anything else.
std::optional<double> parse_number(std::string_view text);

}  // namespace onair::config::detail
