#include "control/control.hpp"

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

#include "control/api_routes.hpp"
#include "control/listener.hpp"
#include "control/server_state.hpp"

namespace onair::control {

struct ControlServer::Impl {
  boost::asio::io_context& ioc;
  std::shared_ptr<ServerState> state;
  std::shared_ptr<Listener> listener;
  uint16_t port = 0;
};

ControlServer::ControlServer(boost::asio::io_context& ioc, ServerOptions options, Hooks hooks) {
  auto router = Router{api_routes(hooks), BearerAuth{options.token}, StaticFiles{options.web_root}};
  auto state = std::make_shared<ServerState>(std::move(options), std::move(router));
  auto listener = std::make_shared<Listener>(ioc, state);
  impl_ = std::make_shared<Impl>(Impl{ioc, std::move(state), std::move(listener)});
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  const auto& options = impl_->state->options;
  impl_->port = impl_->listener->listen(options.host, options.port);
  impl_->listener->run();
  spdlog::info("control: listening on {}:{} (mutating calls {}, panel {})", options.host, impl_->port,
               options.token.empty() ? "disabled: no control.token" : "need the bearer token",
               options.web_root.empty() ? "not served" : "from " + options.web_root);
}

void ControlServer::stop() {
  // Runs on the io_context's thread (inline when already there), where all server state lives.
  boost::asio::dispatch(impl_->ioc, [impl = impl_] {
    if (impl->state->stopping) return;
    impl->state->stopping = true;
    impl->listener->stop();
    impl->state->close_all();
    spdlog::info("control: stopped");
  });
}

uint16_t ControlServer::port() const { return impl_->port; }

}  // namespace onair::control
