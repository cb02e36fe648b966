#include "control/control.hpp"

#include <openssl/err.h>

#include <boost/asio/dispatch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <spdlog/spdlog.h>

#include "control/api_routes.hpp"
#include "control/listener.hpp"
#include "control/server_state.hpp"

namespace onair::control {
namespace ssl = boost::asio::ssl;

namespace {

std::unique_ptr<ssl::context> tls_context(const ServerOptions& options) {
  if (options.tls_cert.empty() && options.tls_key.empty()) return nullptr;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  const auto load = [&](const char* what, const std::string& file, auto&& use) {
    const auto fail = [&](const std::string& why) {
      throw std::runtime_error("cannot load control.tls." + std::string(what) + " " + file + ": " + why);
    };
    if (!std::ifstream(file)) fail(std::strerror(errno));
    boost::system::error_code ec;
    use(file, ec);
    if (!ec) return;
    // OpenSSL's own reason ("no start line") says more than Asio's "asio.ssl error".
    const char* reason = ec.category() == boost::asio::error::get_ssl_category()
                             ? ERR_reason_error_string(static_cast<unsigned long>(ec.value()))
                             : nullptr;
    fail(std::string("not a usable PEM ") + what + " (" + (reason ? reason : ec.message()) + ")");
  };
  load("cert", options.tls_cert, [&](const std::string& f, auto& ec) { ctx->use_certificate_chain_file(f, ec); });
  load("key", options.tls_key, [&](const std::string& f, auto& ec) { ctx->use_private_key_file(f, ssl::context::pem, ec); });
  return ctx;
}

AuthOptions auth_options(const ServerOptions& o) {
  return {o.token, o.read_token, o.login_max_failures, std::chrono::seconds(std::max(1, o.login_window_s)),
          std::chrono::seconds(std::max(1, o.session_ttl_s)), 256};
}

}  // namespace

struct ControlServer::Impl {
  boost::asio::io_context& ioc;
  std::shared_ptr<ServerState> state;
  std::shared_ptr<Listener> listener;
  uint16_t port = 0;
};

ControlServer::ControlServer(boost::asio::io_context& ioc, ServerOptions options, Hooks hooks) {
  auto tls = tls_context(options);
  const auto shared_hooks = std::make_shared<const Hooks>(hooks);
  auto auth = std::make_shared<Authenticator>(auth_options(options));
  auto routes = api_routes(shared_hooks);
  for (auto& route : panel_routes(shared_hooks, auth, options, ioc)) routes.push_back(std::move(route));
  auto router = Router{std::move(routes), auth, StaticFiles{options.web_root}, options.public_health};
  auto live = std::make_shared<LiveHub>(ioc, hooks, std::chrono::milliseconds(options.live_interval_ms));
  auto state = std::make_shared<ServerState>(std::move(options), std::move(router), std::move(live), std::move(tls));
  auto listener = std::make_shared<Listener>(ioc, state);
  impl_ = std::make_shared<Impl>(Impl{ioc, std::move(state), std::move(listener)});
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  const auto& options = impl_->state->options;
  impl_->port = impl_->listener->listen(options.host, options.port);
  impl_->listener->run();
  spdlog::info("control: listening on {}://{}:{} (changes {}, read-only token {}, health endpoints {}, panel {})",
               impl_->state->tls ? "https" : "http", options.host, impl_->port,
               options.token.empty() ? "disabled: no control.token" : "need the control token",
               options.read_token.empty() ? "none" : "set", options.public_health ? "public" : "need a token",
               options.web_root.empty() ? "not served" : "from " + options.web_root);
}

void ControlServer::stop() {
  // Runs on the io_context's thread (inline when already there), where all server state lives.
  boost::asio::dispatch(impl_->ioc, [impl = impl_] {
    if (impl->state->stopping) return;
    impl->state->stopping = true;
    impl->listener->stop();
    impl->state->live->stop();
    impl->state->close_all();
    spdlog::info("control: stopped");
  });
}

uint16_t ControlServer::port() const { return impl_->port; }

std::vector<RouteInfo> ControlServer::routes() const { return impl_->state->router.table(); }

LiveStats ControlServer::live_stats() const { return impl_->state->live->stats(); }

}  // namespace onair::control
