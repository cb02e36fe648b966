#include "control/router.hpp"

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <exception>
#include <memory>
#include <utility>
#include <spdlog/spdlog.h>

namespace onair::control {
namespace {

bool answers(const Route& route, http::verb method) {
  return route.method == method || (route.method == http::verb::get && method == http::verb::head);
}

bool is_safe(http::verb method) { return method == http::verb::get || method == http::verb::head; }

std::string no_route(const Request& req, std::string_view path) {
  return "no route for " + std::string{to_sv(req.method_string())} + " " + std::string{path};
}

StringResponse method_not_allowed(const Request& req, std::string_view path, std::string allow) {
  auto res = error_response(http::status::method_not_allowed,
                            "method " + std::string{to_sv(req.method_string())} +
                                " not allowed on " + std::string{path});
  res.set(http::field::allow, allow);
  return res;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Role needed_role(Access access, bool public_health) {
  switch (access) {
    case Access::open: return Role::none;
    case Access::health: return public_health ? Role::none : Role::read;
    case Access::read: return Role::read;
    case Access::control: return Role::control;
  }
  return Role::control;
}

}  // namespace

const char* to_string(Access access) {
  switch (access) {
    case Access::open: return "open";
    case Access::health: return "health";
    case Access::read: return "read";
    case Access::control: return "control";
  }
  return "?";
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool same_origin(const Request& req, bool tls) {
  const auto origin = req.find(http::field::origin);
  if (origin == req.end()) return true;  // not a browser's cross-site request: scripts send none
  const auto host = req.find(http::field::host);
  if (host == req.end()) return false;
  return lower(to_sv(origin->value())) == (tls ? "https://" : "http://") + lower(to_sv(host->value()));
}

Router::Router(std::vector<Route> routes, std::shared_ptr<Authenticator> auth, StaticFiles files, bool public_health)
    : routes_(std::move(routes)), auth_(std::move(auth)), files_(std::move(files)), public_health_(public_health) {}

void Router::handle(const Request& req, RequestContext& ctx, const Reply& once_reply) {
  // One answer per request, even from a deferred handler that answered and then threw.
  auto answered = std::make_shared<bool>(false);
  const Reply reply = [answered, once_reply](Response response) {
    if (std::exchange(*answered, true)) return;
    once_reply(std::move(response));
  };
  const auto path = path_of(to_sv(req.target()));
  try {
    return dispatch(req, ctx, path, reply);
  } catch (const std::exception& e) {
    spdlog::error("control: {} {} {} failed: {}", ctx.peer, to_sv(req.method_string()), path, e.what());
  } catch (...) {
    spdlog::error("control: {} {} {} failed: unknown exception", ctx.peer, to_sv(req.method_string()), path);
  }
  reply(error_response(http::status::internal_server_error, "internal error"));
}

std::optional<StringResponse> Router::admit(const Route& route, const Request& req, RequestContext& ctx) {
  if (!is_safe(req.method()) && !same_origin(req, ctx.tls)) {
    spdlog::warn("control: {} {} {} refused: cross-origin", ctx.peer, to_sv(req.method_string()), route.path);
    return error_response(http::status::forbidden, "cross-origin request refused");
  }
  const Role needed = needed_role(route.access, public_health_);
  // A route anyone may call answers even to a wrong token (the failure is still counted).
  if (auto refused = auth_->identify(req, ctx, Clock::now()); refused && needed != Role::none) return refused;
  return auth_->require(needed, ctx);
}

void Router::dispatch(const Request& req, RequestContext& ctx, std::string_view path, const Reply& reply) {
  if (path.empty() || path.front() != '/') {
    return reply(error_response(http::status::bad_request, "invalid request target"));
  }
  std::string allow;
  for (const auto& route : routes_) {
    if (route.path != path) continue;
    if (answers(route, req.method())) {
      if (auto refused = admit(route, req, ctx)) return reply(std::move(*refused));
      if (route.deferred) return route.deferred(req, ctx, reply);
      return reply(route.handler(req, ctx));
    }
    allow += (allow.empty() ? "" : ", ") + std::string{http::to_string(route.method)};
    if (route.method == http::verb::get) allow += ", HEAD";
  }
  if (!allow.empty()) return reply(method_not_allowed(req, path, std::move(allow)));
  if (path.starts_with("/api/")) return reply(error_response(http::status::not_found, no_route(req, path)));
  reply(serve_static(req, path));
}

std::optional<StringResponse> Router::authorize_upgrade(const Request& req, RequestContext& ctx) {
  const auto path = path_of(to_sv(req.target()));
  for (const auto& route : routes_) {
    if (route.path != path || route.method != http::verb::get) continue;
    if (path != "/api/v1/live") break;
    // A WebSocket handshake is a GET, so same_origin is not checked by admit(): do it here.
    if (!same_origin(req, ctx.tls)) return error_response(http::status::forbidden, "cross-origin request refused");
    return admit(route, req, ctx);
  }
  return error_response(http::status::not_found, "no WebSocket at " + std::string{path});
}

Response Router::serve_static(const Request& req, std::string_view path) const {
  const auto resolved = files_.resolve(path);
  if (resolved.lookup == StaticFiles::Lookup::invalid) {
    return error_response(http::status::bad_request, "invalid path");
  }
  if (resolved.lookup == StaticFiles::Lookup::not_found) {
    return error_response(http::status::not_found, no_route(req, path));
  }
  if (!is_safe(req.method())) return method_not_allowed(req, path, "GET, HEAD");
  if (auto res = files_.serve(resolved)) return std::move(*res);
  return error_response(http::status::not_found, no_route(req, path));
}

std::vector<RouteInfo> Router::table() const {
  std::vector<RouteInfo> out;
  for (const auto& route : routes_) {
    out.push_back({std::string{http::to_string(route.method)}, route.path, to_string(route.access)});
  }
  out.push_back({"GET", "/", "open"});  // the panel (static files)
  return out;
}

}  // namespace onair::control
