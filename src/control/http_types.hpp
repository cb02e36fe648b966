// Message types and response builders shared by the control plane's private files.
#pragma once

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace onair::control {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;
using FileResponse = http::response<http::file_body>;
// Version and keep-alive are filled in by the session that sends it.
using Response = std::variant<StringResponse, FileResponse>;

// API responses: JSON, Cache-Control: no-store.
StringResponse json_response(http::status status, const nlohmann::json& body);
StringResponse error_response(http::status status, std::string_view message);  // {"error": message}
StringResponse text_response(http::status status, std::string body, std::string_view content_type);

// Compact JSON; invalid UTF-8 (echoed targets, hook output) is replaced instead of throwing.
std::string dump_json(const nlohmann::json& value);

unsigned status_code(const Response& response);

// Beast 1.74 speaks boost::string_view; the rest of onair speaks std::string_view.
inline std::string_view to_sv(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view to_bsv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace onair::control
