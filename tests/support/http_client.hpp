// A small synchronous HTTP/1.1 client over real TCP (Beast), for tests of any module.
// Every call is bounded by its timeout; failures throw std::runtime_error saying what and where.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace onair::test {

using namespace std::chrono_literals;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; repeated fields joined by ", "
  std::string body;

  std::string header(const std::string& name) const;  // "" when absent; name in any case
  bool has_header(const std::string& name) const;
  nlohmann::json json() const;  // parses body; throws with the body in the message if not JSON
};

// One request on a fresh connection (Connection: close).
HttpResponse http_request(const std::string& host, uint16_t port, std::string method,
                          std::string target, std::string body = "", HttpHeaders headers = {},
                          std::chrono::milliseconds timeout = 5s);

// A kept-alive connection: several requests, one after the other, on the same TCP socket.
class HttpConnection {
 public:
  HttpConnection(const std::string& host, uint16_t port, std::chrono::milliseconds timeout = 5s);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  HttpResponse request(std::string method, std::string target, std::string body = "",
                       HttpHeaders headers = {});
  // True once the server has closed its side (reads EOF or reset within the timeout).
  bool closed_by_peer();
  uint16_t local_port() const;  // tells connections apart in tests

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends raw bytes (malformed requests, garbage), then reads until the peer closes or the timeout
// passes. Returns everything received; *peer_closed (if given) says which of the two ended it.
std::string raw_tcp_exchange(const std::string& host, uint16_t port, const std::string& bytes,
                             std::chrono::milliseconds timeout = 5s, bool* peer_closed = nullptr);

}  // namespace onair::test
