// Who may call mutating routes: `Authorization: Bearer <control.token>`, compared in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "control/http_types.hpp"

namespace onair::control {

// True when a == b; the time taken depends only on the lengths, never on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

class BearerAuth {
 public:
  explicit BearerAuth(std::string token);

  // nullopt when the request may proceed, else the 401/403 to send. Never echoes the token.
  std::optional<StringResponse> check(const Request& req) const;

 private:
  std::string token_;
};

}  // namespace onair::control
