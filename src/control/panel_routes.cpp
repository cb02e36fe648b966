// The panel's routes: login/logout/session, the live WebSocket's plain-GET answer, the preview
// picture, the backup camera's link and QR code, and the API description.
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "control/api_routes.hpp"
#include "control/qr_svg.hpp"

namespace onair::control {
namespace {

using Json = nlohmann::json;

struct IfAddrsDeleter {
  void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

// The address a phone on the venue LAN can reach: the one the client used, unless that was
// loopback (the panel opened on the box itself), then the first LAN IPv4 address that is up.
std::string box_host_for(const std::string& local_address) {
  boost::system::error_code ec;
  const auto local = boost::asio::ip::make_address(local_address, ec);
  if (!ec && !local.is_loopback() && !local.is_unspecified()) return local_address;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return local_address;
  const std::unique_ptr<ifaddrs, IfAddrsDeleter> list{raw};
  for (auto* a = raw; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) {
      continue;
    }
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    return boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr)).to_string();
  }
  return local_address;
}

std::optional<BackupLink> backup_link(const Hooks& hooks, const RequestContext& ctx) {
  if (!hooks.backup_link) return std::nullopt;
  return hooks.backup_link(box_host_for(ctx.local_address));
}

StringResponse no_backup() {
  return error_response(http::status::not_found, "no SRT listener backup is configured (sources.backup)");
}

Response openapi(const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  if (file.empty() || !in) return error_response(http::status::not_found, "the API description is not installed");
  std::ostringstream text;
  text << in.rdbuf();
  auto res = text_response(http::status::ok, text.str(), "application/yaml; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  return res;
}

void preview(const Hooks& hooks, boost::asio::io_context& ioc, const Reply& reply) {
  if (!hooks.preview) return reply(unavailable("preview"));
  auto answered = std::make_shared<std::atomic<bool>>(false);
  hooks.preview([executor = ioc.get_executor(), reply, answered](std::optional<std::string> jpeg, std::string error) {
    if (answered->exchange(true)) return;  // a hook answering twice must not write twice
    boost::asio::post(executor, [reply, jpeg = std::move(jpeg), error = std::move(error)]() mutable {
      if (!jpeg) return reply(error_response(http::status::service_unavailable, "no preview: " + error));
      reply(text_response(http::status::ok, std::move(*jpeg), "image/jpeg"));
    });
  });
}

}  // namespace

std::vector<Route> panel_routes(const std::shared_ptr<const Hooks>& hooks, const std::shared_ptr<Authenticator>& auth,
                                const ServerOptions& options, boost::asio::io_context& ioc) {
  const auto get = http::verb::get;
  const auto post = http::verb::post;
  return {
      {post, "/api/v1/login", Access::open,
       [auth](const Request& req, const RequestContext& ctx) { return auth->login(req, ctx, Clock::now()); }},
      {post, "/api/v1/logout", Access::open,
       [auth](const Request& req, const RequestContext& ctx) { return auth->logout(req, ctx); }},
      {get, "/api/v1/session", Access::open,
       [auth](const Request&, const RequestContext& ctx) { return auth->session(ctx); }},
      {get, "/api/v1/live", Access::read,
       [](const Request&, const RequestContext&) {
         auto res = error_response(http::status::upgrade_required, "/api/v1/live is a WebSocket: send an Upgrade request");
         res.set(http::field::upgrade, "websocket");
         return res;
       }},
      {get, "/api/v1/preview.jpg", Access::read, nullptr,
       [hooks, &ioc](const Request&, const RequestContext&, Reply reply) { preview(*hooks, ioc, reply); }},
      {get, "/api/v1/backup", Access::read,
       [hooks](const Request&, const RequestContext& ctx) -> Response {
         const auto link = backup_link(*hooks, ctx);
         if (!link) return no_backup();
         return json_response(http::status::ok, {{"url", link->url},
                                                 {"passphrase_required", link->passphrase_required},
                                                 {"label", link->label},
                                                 {"qr", "/api/v1/backup/qr.svg"}});
       }},
      {get, "/api/v1/backup/qr.svg", Access::read,
       [hooks](const Request&, const RequestContext& ctx) -> Response {
         const auto link = backup_link(*hooks, ctx);
         if (!link) return no_backup();
         return text_response(http::status::ok, qr_svg(qr_encode(link->url)), "image/svg+xml");
       }},
      {get, "/api/v1/openapi.yaml", Access::open,
       [file = options.openapi_file](const Request&, const RequestContext&) { return openapi(file); }},
  };
}

}  // namespace onair::control
