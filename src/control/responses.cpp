#include "control/http_types.hpp"

namespace onair::control {

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StringResponse text_response(http::status status, std::string body, std::string_view content_type) {
  StringResponse res{status, 11};
  res.set(http::field::content_type, to_bsv(content_type));
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

StringResponse json_response(http::status status, const nlohmann::json& body) {
  return text_response(status, dump_json(body), "application/json");
}

StringResponse error_response(http::status status, std::string_view message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

std::optional<StringResponse> json_field(const Request& req, const char* field, nlohmann::json& body,
                                         nlohmann::json::const_iterator& out, bool secret_body) {
  using Json = nlohmann::json;
  try {
    body = Json::parse(req.body());
  } catch (const Json::parse_error& e) {
    if (secret_body) return error_response(http::status::bad_request, "invalid JSON");
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

unsigned status_code(const Response& response) {
  return std::visit([](const auto& res) { return res.result_int(); }, response);
}

}  // namespace onair::control
