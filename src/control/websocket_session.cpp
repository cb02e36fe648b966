#include "control/websocket_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

namespace onair::control {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

// Small kernel send buffer: a viewer that stops reading fills it quickly and shows up as a
// growing queue here instead of hiding megabytes in the kernel.
constexpr int kSendBufferBytes = 64 * 1024;
constexpr size_t kMaxClientMessage = 4096;  // viewers have nothing to say; anything big is an attack

}  // namespace

template <class Stream>
WebsocketSession<Stream>::WebsocketSession(Stream&& stream, std::shared_ptr<ServerState> state, std::string peer)
    : ws_(std::move(stream)), state_(std::move(state)), peer_(std::move(peer)) {}

template <class Stream>
WebsocketSession<Stream>::~WebsocketSession() {
  state_->remove(this);
  state_->live->leave(this);
}

template <class Stream>
void WebsocketSession<Stream>::run(Request req) {
  state_->add(this->shared_from_this());
  auto& lowest = beast::get_lowest_layer(ws_);
  lowest.expires_never();  // the websocket timeouts below take over from the HTTP ones
  beast::error_code ignored;
  lowest.socket().set_option(boost::asio::socket_base::send_buffer_size(kSendBufferBytes), ignored);
  const auto& options = state_->options;
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(std::max(1, options.request_timeout_s));
  timeout.idle_timeout = std::chrono::seconds(std::max(1, options.live_idle_timeout_s));
  timeout.keep_alive_pings = true;  // a live browser answers; a stalled client times out
  ws_.set_option(timeout);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "onair"); }));
  ws_.read_message_max(kMaxClientMessage);
  ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
}

template <class Stream>
void WebsocketSession<Stream>::on_accept(beast::error_code ec) {
  if (ec) {
    spdlog::info("control: {} WebSocket handshake failed: {}", peer_, ec.message());
    return;
  }
  if (state_->stopping) return close();
  state_->live->join(this->shared_from_this());
  do_read();
}

template <class Stream>
void WebsocketSession<Stream>::do_read() {
  read_buffer_.clear();
  ws_.async_read(read_buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec == beast::error::timeout) {
      const auto idle = std::to_string(self->state_->options.live_idle_timeout_s);
      return self->end("no answer to pings for " + idle + " s", true);
    }
    if (ec) return self->end(ec == websocket::error::closed ? "closed by the viewer" : ec.message(), false);
    self->do_read();  // viewers have nothing to say: whatever they send is ignored
  });
}

template <class Stream>
void WebsocketSession<Stream>::push(const LiveMessage& message) {
  if (ended_) return;
  const auto& options = state_->options;
  if (queue_.size() >= std::max<size_t>(1, options.live_max_queue)) {
    return end(std::to_string(queue_.size()) + " messages waiting: viewer too slow", true);
  }
  if (writing_ && Clock::now() - write_started_ > std::chrono::milliseconds(options.live_write_timeout_ms)) {
    return end("a write stuck for over " + std::to_string(options.live_write_timeout_ms) + " ms", true);
  }
  queue_.push_back(message);
  if (!writing_) do_write();
}

template <class Stream>
void WebsocketSession<Stream>::do_write() {
  writing_ = true;
  write_started_ = Clock::now();
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(*queue_.front()),
                  [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
}

template <class Stream>
void WebsocketSession<Stream>::on_write(beast::error_code ec) {
  writing_ = false;
  if (ec) return end("write failed: " + ec.message(), false);
  if (!queue_.empty()) queue_.pop_front();
  if (!queue_.empty() && !ended_) do_write();
}

template <class Stream>
void WebsocketSession<Stream>::end(const std::string& why, bool dropped) {
  if (ended_) return;
  ended_ = true;
  if (dropped) {
    spdlog::warn("control: {} live viewer dropped: {}", peer_, why);
    state_->live->count_drop();
  } else {
    spdlog::info("control: {} live viewer left: {}", peer_, why);
  }
  state_->live->leave(this);
  close();
}

template <class Stream>
void WebsocketSession<Stream>::close() {
  // Closing the socket aborts every pending operation at once; a polite close frame could wait
  // forever on a viewer that does not read.
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

template class WebsocketSession<PlainStream>;
template class WebsocketSession<TlsStream>;

}  // namespace onair::control
