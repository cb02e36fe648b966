#include "control/api_routes.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace onair::control {
namespace {

using Json = nlohmann::json;

StringResponse unavailable(std::string_view what) {
  return error_response(http::status::service_unavailable, std::string{what} + " is not available");
}

StringResponse action_response(const ActionResult& result) {
  // A hook returning a nonsense status is a bug in the hook, not a reason to send garbage.
  if (result.status < 100 || result.status > 599) {
    throw std::logic_error("hook returned HTTP status " + std::to_string(result.status));
  }
  return json_response(static_cast<http::status>(result.status), result.body);
}

// Parses a JSON object body and finds `field` in it; on failure returns the 400 to send.
std::optional<Response> field_of(const Request& req, const char* field, Json& body, Json::const_iterator& out) {
  try {
    body = Json::parse(req.body());
  } catch (const Json::parse_error& e) {
    std::string message = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to a client.
    if (const auto end = message.find("] "); message.starts_with("[json.") && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    return error_response(http::status::bad_request, "invalid JSON: " + message);
  }
  if (!body.is_object()) return error_response(http::status::bad_request, "body must be a JSON object");
  out = body.find(field);
  if (out == body.end()) return error_response(http::status::bad_request, std::string("missing field \"") + field + "\"");
  return std::nullopt;
}

// Validates {"source": "<string>"}; the hook decides whether the value is a known source.
Response select_source(const Hooks& hooks, const Request& req) {
  Json body;
  Json::const_iterator source;
  if (auto error = field_of(req, "source", body, source)) return std::move(*error);
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
  if (auto error = field_of(req, "bitrate_kbps", body, bitrate)) return std::move(*error);
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

std::vector<Route> api_routes(const Hooks& hooks) {
  // One shared copy of the hooks for every route instead of one per lambda.
  const auto shared = std::make_shared<const Hooks>(hooks);
  const auto get = http::verb::get;
  const auto post = http::verb::post;
  return {
      {get, "/healthz", false,
       [](const Request&) { return json_response(http::status::ok, Json{{"status", "ok"}}); }},
      {get, "/readyz", false, [shared](const Request&) { return readiness(*shared); }},
      {get, "/metrics", false,
       [shared](const Request&) -> Response {
         if (!shared->metrics) return unavailable("metrics");
         return text_response(http::status::ok, shared->metrics(),
                              "text/plain; version=0.0.4; charset=utf-8");
       }},
      {get, "/api/v1/status", false,
       [shared](const Request&) -> Response {
         if (!shared->status) return unavailable("status");
         return json_response(http::status::ok, shared->status());
       }},
      {get, "/api/v1/events", false,
       [shared](const Request&) -> Response {
         if (!shared->events) return unavailable("events");
         return json_response(http::status::ok, shared->events());
       }},
      {post, "/api/v1/stream/start", true,
       [shared](const Request&) -> Response {
         if (!shared->stream_start) return unavailable("stream start");
         return action_response(shared->stream_start());
       }},
      {post, "/api/v1/stream/stop", true,
       [shared](const Request&) -> Response {
         if (!shared->stream_stop) return unavailable("stream stop");
         return action_response(shared->stream_stop());
       }},
      {post, "/api/v1/source", true,
       [shared](const Request& req) { return select_source(*shared, req); }},
      {post, "/api/v1/encoder", true,
       [shared](const Request& req) { return set_bitrate(*shared, req); }},
  };
}

}  // namespace onair::control
