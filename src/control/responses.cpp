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

unsigned status_code(const Response& response) {
  return std::visit([](const auto& res) { return res.result_int(); }, response);
}

}  // namespace onair::control
