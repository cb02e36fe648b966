#include "control/api_routes.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace onair::control {
namespace {

using Json = nlohmann::json;

StringResponse action_response(const ActionResult& result) {
  // A hook returning a nonsense status is a bug in the hook, not a reason to send garbage.
  if (result.status < 100 || result.status > 599) {
    throw std::logic_error("hook returned HTTP status " + std::to_string(result.status));
  }
  return json_response(static_cast<http::status>(result.status), result.body);
}

// Validates {"source": "<string>"}; the hook decides whether the value is a known source.
Response select_source(const Hooks& hooks, const Request& req) {
  Json body;
  Json::const_iterator source;
  if (auto error = json_field(req, "source", body, source)) return std::move(*error);
  if (!source->is_string()) {
    return error_response(http::status::bad_request, "field \"source\" must be a string");
  }
  if (!hooks.select_source) return unavailable("source selection");
  return action_response(hooks.select_source(source->get<std::string>()));
}

// Validates {"bitrate_kbps": <integer>}; the hook checks it against the configured range.
Response set_bitrate(const Hooks& hooks, const Request& req) {
  Json body;
  Json::const_iterator bitrate;
  if (auto error = json_field(req, "bitrate_kbps", body, bitrate)) return std::move(*error);
  if (!bitrate->is_number_integer()) {
    return error_response(http::status::bad_request, "field \"bitrate_kbps\" must be an integer");
  }
  if (!hooks.set_bitrate) return unavailable("bitrate control");
  return action_response(hooks.set_bitrate(bitrate->get<int64_t>()));
}

Response readiness(const Hooks& hooks) {
  if (!hooks.readiness) {
    return json_response(http::status::service_unavailable,
                         Json{{"ready", false}, {"reason", "readiness is not wired"}});
  }
  const auto r = hooks.readiness();
  if (r.ready) return json_response(http::status::ok, Json{{"ready", true}});
  return json_response(http::status::service_unavailable, Json{{"ready", false}, {"reason", r.reason}});
}

}  // namespace

StringResponse unavailable(std::string_view what) {
  return error_response(http::status::service_unavailable, std::string{what} + " is not available");
}

std::vector<Route> api_routes(const std::shared_ptr<const Hooks>& shared) {
  const auto get = http::verb::get;
  const auto post = http::verb::post;
  return {
      {get, "/healthz", Access::health,
       [](const Request&, const RequestContext&) { return json_response(http::status::ok, Json{{"status", "ok"}}); }},
      {get, "/readyz", Access::health, [shared](const Request&, const RequestContext&) { return readiness(*shared); }},
      {get, "/metrics", Access::health,
       [shared](const Request&, const RequestContext&) -> Response {
         if (!shared->metrics) return unavailable("metrics");
         return text_response(http::status::ok, shared->metrics(), "text/plain; version=0.0.4; charset=utf-8");
       }},
      {get, "/api/v1/status", Access::read,
       [shared](const Request&, const RequestContext&) -> Response {
         if (!shared->status) return unavailable("status");
         return json_response(http::status::ok, shared->status());
       }},
      {get, "/api/v1/events", Access::read,
       [shared](const Request&, const RequestContext&) -> Response {
         if (!shared->events) return unavailable("events");
         return json_response(http::status::ok, shared->events());
       }},
      {post, "/api/v1/stream/start", Access::control,
       [shared](const Request&, const RequestContext&) -> Response {
         if (!shared->stream_start) return unavailable("stream start");
         return action_response(shared->stream_start());
       }},
      {post, "/api/v1/stream/stop", Access::control,
       [shared](const Request&, const RequestContext&) -> Response {
         if (!shared->stream_stop) return unavailable("stream stop");
         return action_response(shared->stream_stop());
       }},
      {post, "/api/v1/source", Access::control,
       [shared](const Request& req, const RequestContext&) { return select_source(*shared, req); }},
      {post, "/api/v1/encoder", Access::control,
       [shared](const Request& req, const RequestContext&) { return set_bitrate(*shared, req); }},
  };
}

}  // namespace onair::control
