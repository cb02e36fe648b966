// Maps a request to a response: the route table, who may call each route (Authenticator),
// same-origin checks for browsers, the panel files, and the 404/405/500 rules. Knows nothing
// about sockets. Lives on the io thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/auth.hpp"
#include "control/control.hpp"
#include "control/http_types.hpp"
#include "control/static_files.hpp"

namespace onair::control {

enum class Access {
  open,     // anyone (login, logout, the API description)
  health,   // anyone while ServerOptions::public_health, else a token or session
  read,     // the read-only or the control token, or a session
  control,  // the control token, or a session logged in with it
};
const char* to_string(Access access);

struct Route {
  http::verb method = http::verb::get;  // a GET route also answers HEAD
  std::string path;                     // exact match, no query string
  Access access = Access::read;
  std::function<Response(const Request&, const RequestContext&)> handler;
  // Instead of handler, for answers that come later (the preview): must call reply once.
  std::function<void(const Request&, const RequestContext&, Reply)> deferred{};
};

class Router {
 public:
  Router(std::vector<Route> routes, std::shared_ptr<Authenticator> auth, StaticFiles files, bool public_health);

  // Never throws: a throwing handler becomes 500 {"error":"internal error"} and a log line.
  void handle(const Request& req, RequestContext& ctx, const Reply& reply);
  // A WebSocket upgrade request: nullopt when it may go ahead, else the answer to send.
  std::optional<StringResponse> authorize_upgrade(const Request& req, RequestContext& ctx);
  std::vector<RouteInfo> table() const;

 private:
  void dispatch(const Request& req, RequestContext& ctx, std::string_view path, const Reply& reply);
  std::optional<StringResponse> admit(const Route& route, const Request& req, RequestContext& ctx);
  Response serve_static(const Request& req, std::string_view path) const;

  std::vector<Route> routes_;
  std::shared_ptr<Authenticator> auth_;
  StaticFiles files_;
  bool public_health_;
};

// The request path without its query string ("/a?b" → "/a").
std::string_view path_of(std::string_view target);

// False when the request carries an Origin that is not this server (scheme, host and port as the
// client addressed it): a page elsewhere must not drive the panel's API with its cookie.
bool same_origin(const Request& req, bool tls);

}  // namespace onair::control
