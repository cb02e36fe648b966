// The REST and health routes, each a thin adapter from HTTP to one Hook.
#pragma once

#include <vector>

#include "control/control.hpp"
#include "control/router.hpp"

namespace onair::control {

std::vector<Route> api_routes(const Hooks& hooks);

}  // namespace onair::control
