// The uplink's pure parts, no sockets: reconnect backoff, the send queue's drop/keyframe
// policy, and the rejection reasons a host reads in the status.
#include <doctest/doctest.h>
#include <srt/access_control.h>
#include <srt/srt.h>

#include <chrono>
#include <memory>
#include <vector>

#include "uplink/backoff.hpp"
#include "uplink/link_reasons.hpp"
#include "uplink/send_queue.hpp"

using namespace onair;
using namespace onair::uplink;
using std::chrono::milliseconds;

namespace {

TsPayload payload(size_t packets, bool keyframe, uint8_t tag = 0) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(packets * 188, tag);
  TsPayload p;
  p.data = bytes->data();
  p.size = bytes->size();
  p.owner = bytes;
  p.keyframe = keyframe;
  return p;
}

std::vector<uint8_t> drain_tags(SendQueue& queue) {
  std::vector<uint8_t> tags;
  for (int i = 0; i < 1000; ++i) {
    auto p = queue.pop_until(SendQueue::Clock::now());
    if (!p) break;
    tags.push_back(p->data[0]);
  }
  return tags;
}

config::SrtUrl url(std::string passphrase = "", std::string streamid = "") {
  config::SrtUrl u;
  u.host = "ingest.example.net";
  u.port = 9000;
  u.passphrase = std::move(passphrase);
  u.streamid = std::move(streamid);
  return u;
}

}  // namespace

TEST_CASE("backoff: refusals double from min to max; a healthy connection resets") {
  Backoff backoff(milliseconds(200), milliseconds(5000));
  std::vector<long> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(backoff.after_refusal().count());
  CHECK(delays == std::vector<long>{200, 400, 800, 1600, 3200, 5000, 5000});

  CHECK(backoff.after_connection(milliseconds(999)).count() == 5000);  // dies young: a refusal
  CHECK(backoff.after_refusal().count() == 5000);
  CHECK(backoff.after_connection(milliseconds(10'000)).count() == 200);
  CHECK(backoff.after_refusal().count() == 200);
}

TEST_CASE("backoff: a silent or lost ingest is probed again after min, however long it stays away") {
  // The 1 s promise: an ingest that returns is found by the next attempt, never after a 5 s wait.
  struct Row {
    const char* what;
    std::vector<char> events;  // r = refusal, s = silence (no answer), c = connection lived 2 s
    std::vector<long> delays;
  };
  const std::vector<Row> rows = {
      {"no answer, again and again", {'s', 's', 's', 's', 's', 's', 's', 's'},
       {200, 200, 200, 200, 200, 200, 200, 200}},
      {"ingest restarted ten times", {'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c'},
       {200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
      {"refusals back off; silence does not add to it", {'r', 'r', 's', 'r', 's', 'r'},
       {200, 400, 200, 800, 200, 1600}},
      {"a lost connection after refusals is still retried at once", {'r', 'r', 'r', 'c'},
       {200, 400, 800, 200}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    Backoff backoff(milliseconds(200), milliseconds(5000));
    std::vector<long> delays;
    for (char e : row.events) {
      if (e == 'r') delays.push_back(backoff.after_refusal().count());
      if (e == 's') delays.push_back(backoff.after_silence().count());
      if (e == 'c') delays.push_back(backoff.after_connection(milliseconds(2000)).count());
    }
    CHECK(delays == row.delays);
  }
}

TEST_CASE("send queue: closed discards without counting, open starts at a keyframe") {
  SendQueue queue(1 << 20);
  queue.push(payload(7, true, 1));  // closed (not connected): discarded
  CHECK(queue.queued_bytes() == 0);

  queue.open();
  queue.push(payload(7, false, 2));  // before the first keyframe: not sendable
  queue.push(payload(7, true, 3));
  queue.push(payload(7, false, 4));
  CHECK(drain_tags(queue) == std::vector<uint8_t>{3, 4});
  CHECK(queue.drops() == 0);

  queue.push(payload(7, false, 5));
  queue.close();
  CHECK(queue.queued_bytes() == 0);
  CHECK(drain_tags(queue).empty());
  CHECK(queue.drops() == 0);
}

TEST_CASE("send queue: overflow drops the backlog, counts it, and resumes at a keyframe") {
  SendQueue queue(4 * 1316);  // room for four 7-packet payloads
  queue.open();
  queue.push(payload(7, true, 1));
  for (uint8_t tag = 2; tag <= 4; ++tag) queue.push(payload(7, false, tag));
  CHECK(queue.queued_bytes() == 4 * 1316);

  queue.push(payload(7, false, 5));  // no room: backlog of 4 and this one dropped
  CHECK(queue.drops() == 5);
  CHECK(queue.queued_bytes() == 0);
  queue.push(payload(7, false, 6));  // still mid-GOP: dropped and counted
  CHECK(queue.drops() == 6);
  queue.push(payload(7, true, 7));
  queue.push(payload(7, false, 8));
  CHECK(drain_tags(queue) == std::vector<uint8_t>{7, 8});
  CHECK(queue.drops() == 6);
}

TEST_CASE("send queue: a keyframe that overflows replaces the backlog; a huge one still goes") {
  SendQueue queue(2 * 1316);
  queue.open();
  queue.push(payload(7, true, 1));
  queue.push(payload(7, false, 2));
  queue.push(payload(7, true, 3));  // overflow on a keyframe: the receiver can restart here
  CHECK(queue.drops() == 2);
  CHECK(drain_tags(queue) == std::vector<uint8_t>{3});

  queue.push(payload(70, true, 4));  // bigger than the whole queue, but the queue is empty
  CHECK(drain_tags(queue) == std::vector<uint8_t>{4});
}

TEST_CASE("send queue: interrupt wakes a waiting pop") {
  SendQueue queue(1 << 20);
  queue.open();
  queue.interrupt();
  const auto started = SendQueue::Clock::now();
  CHECK_FALSE(queue.pop_until(started + std::chrono::seconds(5)).has_value());
  CHECK(SendQueue::Clock::now() - started < std::chrono::seconds(1));
}

TEST_CASE("connect failures read as what the host must fix") {
  struct Row {
    int code;
    config::SrtUrl url;
    LinkState state;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {SRT_REJ_BADSECRET, url("correct horse"), LinkState::rejected,
       "rejected by ingest: wrong passphrase"},
      {SRT_REJ_UNSECURE, url(), LinkState::rejected,
       "rejected by ingest: ingest requires a passphrase"},
      {SRT_REJ_UNSECURE, url("correct horse"), LinkState::rejected,
       "rejected by ingest: ingest has no passphrase set"},
      {SRT_REJX_FORBIDDEN, url("", "#!::r=live/cam"), LinkState::rejected,
       "rejected by ingest: streamid \"#!::r=live/cam\" refused (code 1403)"},
      {SRT_REJC_USERDEFINED + 7, url("", "abc"), LinkState::rejected,
       "rejected by ingest: streamid \"abc\" refused (code 2007)"},
      {SRT_REJ_PEER, url("", "abc"), LinkState::rejected,
       "rejected by ingest: streamid \"abc\" refused (code 2)"},
      {SRT_REJ_TIMEOUT, url(), LinkState::backoff, "no answer from ingest.example.net:9000"},
      {SRT_REJ_VERSION, url(), LinkState::rejected,
       std::string("rejected by ingest: ") + srt_rejectreason_str(SRT_REJ_VERSION)},
      {SRT_REJ_SYSTEM, url(), LinkState::backoff,
       std::string("connection to ingest.example.net:9000 failed: ") +
           srt_rejectreason_str(SRT_REJ_SYSTEM)},
  };
  for (const Row& row : rows) {
    CAPTURE(row.code);
    const LinkFailure failure = describe_connect_failure(row.code, row.url);
    CHECK(failure.state == row.state);
    CHECK(failure.reason == row.reason);
  }
}

TEST_CASE("connecting reasons name the endpoint the way the URL did") {
  config::SrtUrl listener;
  listener.mode = config::SrtMode::listener;
  listener.port = 9000;
  CHECK(connecting_reason(listener) == "waiting for the ingest to connect on :9000");
  listener.host = "192.168.1.20";
  CHECK(connecting_reason(listener) == "waiting for the ingest to connect on 192.168.1.20:9000");
  CHECK(connecting_reason(url()) == "connecting to ingest.example.net:9000");
  config::SrtUrl v6 = url();
  v6.host = "::1";
  CHECK(endpoint_text(v6) == "[::1]:9000");
  CHECK(std::string(to_string(LinkState::rejected)) == "rejected");
  CHECK(std::string(to_string(LinkState::backoff)) == "backoff");
}
