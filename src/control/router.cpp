#include "control/router.hpp"

#include <exception>
#include <spdlog/spdlog.h>

namespace onair::control {
namespace {

bool answers(const Route& route, http::verb method) {
  return route.method == method || (route.method == http::verb::get && method == http::verb::head);
}

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

}  // namespace

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

Router::Router(std::vector<Route> routes, BearerAuth auth, StaticFiles files)
    : routes_(std::move(routes)), auth_(std::move(auth)), files_(std::move(files)) {}

Response Router::handle(const Request& req, std::string_view peer) const {
  const auto path = path_of(to_sv(req.target()));
  try {
    return dispatch(req, path);
  } catch (const std::exception& e) {
    spdlog::error("control: {} {} {} failed: {}", peer, to_sv(req.method_string()), path, e.what());
  } catch (...) {
    spdlog::error("control: {} {} {} failed: unknown exception", peer, to_sv(req.method_string()),
                  path);
  }
  return error_response(http::status::internal_server_error, "internal error");
}

Response Router::dispatch(const Request& req, std::string_view path) const {
  if (path.empty() || path.front() != '/') {
    return error_response(http::status::bad_request, "invalid request target");
  }
  std::string allow;
  for (const auto& route : routes_) {
    if (route.path != path) continue;
    if (answers(route, req.method())) {
      if (route.mutating) {
        if (auto refused = auth_.check(req)) return std::move(*refused);
      }
      return route.handler(req);
    }
    allow += (allow.empty() ? "" : ", ") + std::string{http::to_string(route.method)};
    if (route.method == http::verb::get) allow += ", HEAD";
  }
  if (!allow.empty()) return method_not_allowed(req, path, std::move(allow));
  if (path.starts_with("/api/")) return error_response(http::status::not_found, no_route(req, path));
  return serve_static(req, path);
}

Response Router::serve_static(const Request& req, std::string_view path) const {
  const auto resolved = files_.resolve(path);
  if (resolved.lookup == StaticFiles::Lookup::invalid) {
    return error_response(http::status::bad_request, "invalid path");
  }
  if (resolved.lookup == StaticFiles::Lookup::not_found) {
    return error_response(http::status::not_found, no_route(req, path));
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return method_not_allowed(req, path, "GET, HEAD");
  }
  if (auto res = files_.serve(resolved)) return std::move(*res);
  return error_response(http::status::not_found, no_route(req, path));
}

}  // namespace onair::control
