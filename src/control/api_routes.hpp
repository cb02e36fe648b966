// The route table: REST and health routes (api_routes.cpp), and the panel's routes — login,
// live, preview, backup link, API description (panel_routes.cpp). Each is a thin adapter from
// HTTP to one Hook.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "control/auth.hpp"
#include "control/control.hpp"
#include "control/router.hpp"

namespace onair::control {

std::vector<Route> api_routes(const std::shared_ptr<const Hooks>& hooks);
std::vector<Route> panel_routes(const std::shared_ptr<const Hooks>& hooks, const std::shared_ptr<Authenticator>& auth,
                                const ServerOptions& options, boost::asio::io_context& ioc);

// 503 {"error": "<what> is not available"}: a hook the app did not wire.
StringResponse unavailable(std::string_view what);

}  // namespace onair::control
