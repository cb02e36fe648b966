// Maps a request to a response: the API route table, auth on mutating routes, the panel files,
// and the 404/405/500 rules. Knows nothing about sockets.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "control/auth.hpp"
#include "control/http_types.hpp"
#include "control/static_files.hpp"

namespace onair::control {

struct Route {
  http::verb method = http::verb::get;  // a GET route also answers HEAD
  std::string path;                     // exact match, no query string
  bool mutating = false;                // needs BearerAuth
  std::function<Response(const Request&)> handler;
};

class Router {
 public:
  Router(std::vector<Route> routes, BearerAuth auth, StaticFiles files);

  // Never throws: a throwing handler becomes 500 {"error":"internal error"} and a log line.
  Response handle(const Request& req, std::string_view peer) const;

 private:
  Response dispatch(const Request& req, std::string_view path) const;
  Response serve_static(const Request& req, std::string_view path) const;

  std::vector<Route> routes_;
  BearerAuth auth_;
  StaticFiles files_;
};

// The request path without its query string ("/a?b" → "/a").
std::string_view path_of(std::string_view target);

}  // namespace onair::control
