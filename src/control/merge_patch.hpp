// JSON merge patches (RFC 7386) between two documents, so /api/v1/live sends only what changed.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

namespace onair::control {

// The patch that turns `from` into `to` when applied with RFC 7386 (nlohmann's merge_patch, or
// the panel's few lines of JS): changed members, null for removed ones, arrays whole. {} when
// equal. nullopt when a merge patch cannot say it (a null value in `to`, or `to` not an
// object): send the whole document instead.
std::optional<nlohmann::json> merge_diff(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace onair::control
