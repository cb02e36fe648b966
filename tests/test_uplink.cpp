// UplinkSender against real libsrt peers on 127.0.0.1: delivery, caller/listener/rendezvous
// modes, passphrase and streamid rejections. (Reconnects, dead links, back-pressure, stop and
// stats: test_uplink_links.cpp.)
#include <doctest/doctest.h>

#include "uplink_sender_harness.hpp"

TEST_CASE("caller: every byte arrives in order, in 7x188 messages, starting at a keyframe") {
  TestIngest ingest({});
  REQUIRE(ingest.listening());
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, ingest.port()), fast_options(),
                      observer.callbacks());
  Stream stream;
  sender.push(stream.make(7, true));  // stopped: discarded
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));

  sender.push(stream.make(7, false));  // connected, but no keyframe yet: never sent
  const std::vector<size_t> sizes = {15, 1, 7, 8, 14, 20, 3, 6, 21, 2};
  for (size_t i = 0; i < sizes.size(); ++i) stream.send(sender, sizes[i], i == 0 || i == 6);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(peer.received == stream.pushed);
  CHECK(peer.message_sizes == expected_messages(sizes));
  for (int size : peer.message_sizes) CHECK((size <= 1316 && size % 188 == 0));

  const auto stop_time = time_of([&] { sender.stop(); });
  CHECK(stop_time < seconds(1));
  CHECK(observer.last().state == LinkState::stopped);
  CHECK(peer.wait_broken(seconds(5)));  // the socket was really closed
}

TEST_CASE("listener: waits for the ingest, serves it, and a newer ingest replaces it") {
  const uint16_t port = free_udp_port();
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::listener, port), fast_options(), observer.callbacks());
  sender.start();
  const std::string waiting = "waiting for the ingest to connect on :" + std::to_string(port);
  REQUIRE(observer.wait_state(LinkState::connecting, waiting));

  PeerConnection first = connect_peer(port, {}, seconds(10));
  REQUIRE(first.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  stream.send(sender, 9, true);
  REQUIRE(first.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(first.received == stream.pushed);

  // An ingest that restarted calls again before the old link timed out: the newest wins.
  PeerConnection second = connect_peer(port, {}, seconds(10));
  REQUIRE(second.valid());
  REQUIRE(observer.wait_connections(2));
  stream.pushed.clear();
  stream.send(sender, 3, false);  // mid-GOP after the switch: held back
  stream.pushed.clear();
  stream.send(sender, 4, true);
  REQUIRE(second.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(second.received == stream.pushed);
  CHECK(first.wait_broken(seconds(5)));
  CHECK(observer.wait([](const SenderStats& s, int) { return s.reconnects == 1; }));

  CHECK(time_of([&] { sender.stop(); }) < seconds(1));
}

TEST_CASE("rendezvous: both sides meet and data flows") {
  const uint16_t sender_port = free_udp_port();
  const uint16_t peer_port = free_udp_port();
  Observer observer;
  SenderOptions options = fast_options();
  options.rendezvous_local_port = sender_port;
  UplinkSender sender(destination(config::SrtMode::rendezvous, peer_port), options, observer.callbacks());
  sender.start();
  PeerConnection peer = connect_peer(sender_port, {}, seconds(10), peer_port);
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  stream.send(sender, 10, true);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(peer.received == stream.pushed);
}

TEST_CASE("passphrase: the right one delivers, a wrong or missing one is reported as such") {
  const std::string secret = "correct horse battery";
  struct Row {
    std::string ingest_passphrase;
    std::string sender_passphrase;
    std::string reason;  // empty: must connect and deliver
  };
  const std::vector<Row> rows = {
      {secret, secret, ""},
      {secret, "wrong horse battery", "rejected by ingest: wrong passphrase"},
      {secret, "", "rejected by ingest: ingest requires a passphrase"},
      {"", secret, "rejected by ingest: ingest has no passphrase set"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.sender_passphrase);
    TestIngest ingest(ingest_options([&](PeerOptions& o) { o.passphrase = row.ingest_passphrase; }));
    REQUIRE(ingest.listening());
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), row.sender_passphrase),
                        fast_options(), observer.callbacks());
    sender.start();
    if (row.reason.empty()) {
      PeerConnection peer = ingest.accept(seconds(10));
      REQUIRE(peer.valid());
      REQUIRE(observer.wait_connections(1));
      Stream stream;
      stream.send(sender, 7, true);
      REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
      CHECK(peer.received == stream.pushed);
      const SenderStats stats = observer.last();
      CHECK(stats.url_redacted.find(secret) == std::string::npos);
      CHECK(stats.url_redacted.find("***") != std::string::npos);
    } else {
      CHECK(observer.wait_state(LinkState::rejected, row.reason));
      CHECK(observer.last().reason.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("streamid: a refused one is reported with its code; an accepted one reaches the ingest") {
  const std::string refused = "#!::r=live/other-event,m=publish";
  TestIngest ingest(ingest_options([&](PeerOptions& o) { o.refused_streamids = {refused}; }));
  REQUIRE(ingest.listening());
  {
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), "", refused),
                        fast_options(), observer.callbacks());
    sender.start();
    CHECK(observer.wait_state(LinkState::rejected,
                              "rejected by ingest: streamid \"" + refused + "\" refused (code 1403)"));
  }
  const std::string accepted = "#!::r=live/onair,m=publish";
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), "", accepted),
                      fast_options(), observer.callbacks());
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  CHECK(ingest.streamids().back() == accepted);
}
