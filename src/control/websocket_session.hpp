// One /api/v1/live viewer over WebSocket (plain or TLS): the hub's messages go out through a
// bounded queue; a viewer that stops reading is dropped (too many messages waiting, a write
// stuck too long, or no answer to our pings) so it can never slow the others or the media.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <memory>
#include <string>

#include "control/http_session.hpp"
#include "control/live_hub.hpp"
#include "control/server_state.hpp"

namespace onair::control {

template <class Stream>
class WebsocketSession : public Connection,
                         public LiveViewer,
                         public std::enable_shared_from_this<WebsocketSession<Stream>> {
 public:
  WebsocketSession(Stream&& stream, std::shared_ptr<ServerState> state, std::string peer);
  ~WebsocketSession() override;

  void run(Request req);  // completes the handshake, then joins the hub
  void close() override;
  void push(const LiveMessage& message) override;

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void do_write();
  void on_write(boost::beast::error_code ec);
  void end(const std::string& why, bool dropped);

  boost::beast::websocket::stream<Stream> ws_;
  std::shared_ptr<ServerState> state_;
  std::string peer_;
  std::deque<LiveMessage> queue_;
  bool writing_ = false;
  bool ended_ = false;
  Clock::time_point write_started_{};
  boost::beast::flat_buffer read_buffer_;
};

extern template class WebsocketSession<PlainStream>;
extern template class WebsocketSession<TlsStream>;

}  // namespace onair::control
