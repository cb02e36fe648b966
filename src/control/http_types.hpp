// Message types and response builders shared by the control plane's private files.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/sessions.hpp"

namespace onair::control {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;
using FileResponse = http::response<http::file_body>;
// Version and keep-alive are filled in by the session that sends it.
using Response = std::variant<StringResponse, FileResponse>;
// Delivers the answer to a request; must be called once, on the io thread.
using Reply = std::function<void(Response)>;

// Who asked, from where, over what; role and via are filled in by the Authenticator.
struct RequestContext {
  std::string peer;           // "address:port", for log lines
  std::string address;        // the client's address, for the failed-login limiter
  std::string local_address;  // the box's address the client reached (links for the phone)
  bool tls = false;
  Role role = Role::none;
  std::string via;  // "bearer", "cookie" or "" (nobody)
};

// API responses: JSON, Cache-Control: no-store.
StringResponse json_response(http::status status, const nlohmann::json& body);
StringResponse error_response(http::status status, std::string_view message);  // {"error": message}
StringResponse text_response(http::status status, std::string body, std::string_view content_type);

// Parses a JSON object body and finds `field` in it; on failure returns the 400 to send.
// secret_body: the parser's message would quote the body, so say only "invalid JSON".
std::optional<StringResponse> json_field(const Request& req, const char* field, nlohmann::json& body,
                                         nlohmann::json::const_iterator& out, bool secret_body = false);

// Compact JSON; invalid UTF-8 (echoed targets, hook output) is replaced instead of throwing.
std::string dump_json(const nlohmann::json& value);

unsigned status_code(const Response& response);

// Beast 1.74 speaks boost::string_view; the rest of onair speaks std::string_view.
inline std::string_view to_sv(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view to_bsv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace onair::control
