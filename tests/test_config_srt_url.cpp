// SRT URL parsing (ffmpeg/OBS conventions): fields, exact error messages, redaction.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/srt_url.hpp"

using onair::config::parse_srt_url;
using onair::config::SrtMode;
using onair::config::SrtUrl;

namespace {

struct ValidCase {
  std::string text;
  std::string host;
  uint16_t port;
  SrtMode mode;
  int latency_ms;
  std::string passphrase;
  int pbkeylen;
  std::string streamid;
  std::optional<int> peer_idle_timeout_ms;
  std::string redacted;
};

struct InvalidCase {
  std::string text;
  std::string error;
};

const std::string kSecret = "TopSecret-0123456789";

}  // namespace

TEST_CASE("valid SRT URLs give their fields and a canonical redacted form") {
  const std::vector<ValidCase> cases = {
      {"srt://127.0.0.1:9000", "127.0.0.1", 9000, SrtMode::caller, 120, "", 0, "", std::nullopt,
       "srt://127.0.0.1:9000?mode=caller&latency=120"},
      {"srt://:9000?mode=listener", "", 9000, SrtMode::listener, 120, "", 0, "", std::nullopt,
       "srt://:9000?mode=listener&latency=120"},
      {"srt://[::1]:9000?mode=caller&latency=200", "::1", 9000, SrtMode::caller, 200, "", 0, "",
       std::nullopt, "srt://[::1]:9000?mode=caller&latency=200"},
      {"srt://[::]:1?mode=listener", "::", 1, SrtMode::listener, 120, "", 0, "", std::nullopt,
       "srt://[::]:1?mode=listener&latency=120"},
      {"srt://ingest.example.org:65535?mode=rendezvous&latency=0", "ingest.example.org", 65535,
       SrtMode::rendezvous, 0, "", 0, "", std::nullopt,
       "srt://ingest.example.org:65535?mode=rendezvous&latency=0"},
      {"SRT://Cam-1.local:9001", "Cam-1.local", 9001, SrtMode::caller, 120, "", 0, "", std::nullopt,
       "srt://Cam-1.local:9001?mode=caller&latency=120"},
      {"srt://h:9000?mode=client", "h", 9000, SrtMode::caller, 120, "", 0, "", std::nullopt,
       "srt://h:9000?mode=caller&latency=120"},
      {"srt://h:9000?mode=server", "h", 9000, SrtMode::listener, 120, "", 0, "", std::nullopt,
       "srt://h:9000?mode=listener&latency=120"},
      {"srt://h:9000?passphrase=" + kSecret + "&pbkeylen=32", "h", 9000, SrtMode::caller, 120,
       kSecret, 32, "", std::nullopt,
       "srt://h:9000?mode=caller&latency=120&passphrase=***&pbkeylen=32"},
      {"srt://h:9000?passphrase=a+b%20c%26d%25e-long", "h", 9000, SrtMode::caller, 120,
       "a+b c&d%e-long", 0, "", std::nullopt,
       "srt://h:9000?mode=caller&latency=120&passphrase=***"},
      {"srt://h:9000?streamid=%23!::r=live/abc,m=publish", "h", 9000, SrtMode::caller, 120, "", 0,
       "#!::r=live/abc,m=publish", std::nullopt,
       "srt://h:9000?mode=caller&latency=120&streamid=#!::r=live/abc,m=publish"},
      {"srt://h:9000?streamid=a%26b%25c%20d", "h", 9000, SrtMode::caller, 120, "", 0, "a&b%c d",
       std::nullopt, "srt://h:9000?mode=caller&latency=120&streamid=a%26b%25c%20d"},
      {"srt://h:9000?peeridletimeo=5000&latency=60000", "h", 9000, SrtMode::caller, 60000, "", 0,
       "", 5000, "srt://h:9000?mode=caller&latency=60000&peeridletimeo=5000"},
      {"srt://h:9000/?passphrase=&streamid=&", "h", 9000, SrtMode::caller, 120, "", 0, "",
       std::nullopt, "srt://h:9000?mode=caller&latency=120"},
      {"srt://h:9000?", "h", 9000, SrtMode::caller, 120, "", 0, "", std::nullopt,
       "srt://h:9000?mode=caller&latency=120"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::string error;
    const auto url = parse_srt_url(c.text, &error);
    REQUIRE_MESSAGE(url.has_value(), error);
    CHECK(url->host == c.host);
    CHECK(url->port == c.port);
    CHECK(url->mode == c.mode);
    CHECK(url->latency_ms == c.latency_ms);
    CHECK(url->passphrase == c.passphrase);
    CHECK(url->pbkeylen == c.pbkeylen);
    CHECK(url->streamid == c.streamid);
    CHECK(url->peer_idle_timeout_ms == c.peer_idle_timeout_ms);
    CHECK(url->redacted() == c.redacted);
    if (c.passphrase.empty()) {  // the canonical form reads back as the same URL
      std::string again_error;
      const auto again = parse_srt_url(url->redacted(), &again_error);
      REQUIRE_MESSAGE(again.has_value(), again_error);
      CHECK(again->redacted() == c.redacted);
      CHECK(again->streamid == c.streamid);
    }
  }
}

TEST_CASE("invalid SRT URLs are refused with an exact message") {
  const std::vector<InvalidCase> cases = {
      {"", "not an srt:// URL: \"\""},
      {"udp://1.2.3.4:5000", "not an srt:// URL: \"udp://1.2.3.4:5000\""},
      {"udp://1.2.3.4:5000?passphrase=" + kSecret, "not an srt:// URL: \"udp://1.2.3.4:5000\""},
      {"srt:/h:9000", "not an srt:// URL: \"srt:/h:9000\""},
      {"srt://host", "missing port in \"srt://host\""},
      {"srt://host:", "missing port in \"srt://host:\""},
      {"srt://host?mode=caller&passphrase=" + kSecret, "missing port in \"srt://host\""},
      {"srt://host:0", "port must be 1..65535, got \"0\""},
      {"srt://host:65536", "port must be 1..65535, got \"65536\""},
      {"srt://host:abc", "port must be 1..65535, got \"abc\""},
      {"srt://host:-1", "port must be 1..65535, got \"-1\""},
      {"srt://:9000",
       "caller mode needs a host in \"srt://:9000\" (only a listener may leave it empty to bind "
       "all interfaces)"},
      {"srt://:9000?mode=rendezvous",
       "rendezvous mode needs a host in \"srt://:9000\" (only a listener may leave it empty to "
       "bind all interfaces)"},
      {"srt://::1:9000", "IPv6 address must be in brackets, e.g. [::1]:9000, got \"::1:9000\""},
      {"srt://[::1:9000", "missing ']' after IPv6 address in \"[::1:9000\""},
      {"srt://[]:9000", "empty IPv6 address \"[]\" in \"[]:9000\""},
      {"srt://[::1]9000", "unexpected \"9000\" after IPv6 address in \"[::1]9000\""},
      {"srt://[zz::1]:9000", "invalid IPv6 address \"zz::1\""},
      {"srt://300.1.1.1:9000", "invalid IPv4 address \"300.1.1.1\""},
      {"srt://1.2.3:9000", "invalid IPv4 address \"1.2.3\""},
      {"srt://bad!host:9000", "invalid host name \"bad!host\""},
      {"srt://a..b:9000", "invalid host name \"a..b\""},
      {"srt://user@host:9000", "invalid host name \"user@host\""},
      {"srt://host:9000/live",
       "unexpected path \"/live\" in \"srt://host:9000/live\" (SRT URLs have no path; name the "
       "stream with streamid=)"},
      {"srt://host:9000?mode=calller",
       "unknown SRT mode \"calller\" (expected caller, listener or rendezvous)"},
      {"srt://host:9000?mode=", "unknown SRT mode \"\" (expected caller, listener or rendezvous)"},
      {"srt://host:9000?latency=abc", "latency must be 0..60000 ms, got \"abc\""},
      {"srt://host:9000?latency=60001", "latency must be 0..60000 ms, got \"60001\""},
      {"srt://host:9000?latency=-1", "latency must be 0..60000 ms, got \"-1\""},
      {"srt://host:9000?latency=+5", "latency must be 0..60000 ms, got \"+5\""},
      {"srt://host:9000?latency=120ms", "latency must be 0..60000 ms, got \"120ms\""},
      {"srt://host:9000?latancy=120", "unknown query key \"latancy\" (did you mean \"latency\"?)"},
      {"srt://host:9000?Mode=caller", "unknown query key \"Mode\" (did you mean \"mode\"?)"},
      {"srt://host:9000?pkt_size=1316",
       "unknown query key \"pkt_size\" (expected mode, latency, passphrase, pbkeylen, streamid or "
       "peeridletimeo)"},
      {"srt://host:9000?mode", "query key \"mode\" has no value"},
      {"srt://host:9000?latency=1&latency=2", "duplicate query key \"latency\""},
      {"srt://host:9000?passphrase=short", "passphrase must be 10..79 characters, got 5"},
      {"srt://host:9000?passphrase=" + std::string(80, 'p'),
       "passphrase must be 10..79 characters, got 80"},
      {"srt://host:9000?passphrase=abc%20%20%20%20%20%20",
       "passphrase must be 10..79 characters, got 9"},
      {"srt://host:9000?passphrase=" + kSecret + "&pbkeylen=8",
       "pbkeylen must be 16, 24 or 32, got \"8\""},
      {"srt://host:9000?pbkeylen=16", "pbkeylen needs a passphrase"},
      {"srt://host:9000?streamid=" + std::string(513, 's'),
       "streamid must be at most 512 characters, got 513"},
      {"srt://host:9000?streamid=%zz", "bad percent-encoding in the value of \"streamid\""},
      {"srt://host:9000?streamid=ab%2", "bad percent-encoding in the value of \"streamid\""},
      {"srt://host:9000?streamid=a%00b", "bad percent-encoding in the value of \"streamid\""},
      {"srt://host:9000?streamid=#!::u=a b&c",
       "unknown query key \"c\" (expected mode, latency, "
       "passphrase, pbkeylen, streamid or peeridletimeo)"},
      {"srt://host:9000?peeridletimeo=5", "peeridletimeo must be 100..600000 ms, got \"5\""},
      {"srt://host:9000?peeridletimeo=600001",
       "peeridletimeo must be 100..600000 ms, got \"600001\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::string error;
    const auto url = parse_srt_url(c.text, &error);
    CHECK_FALSE(url.has_value());
    CHECK(error == c.error);
  }
}

TEST_CASE("no error message ever shows the passphrase") {
  const std::vector<std::string> bad_with_secret = {
      "srt://host?passphrase=" + kSecret,
      "srt://host:0?passphrase=" + kSecret,
      "srt://:9000?passphrase=" + kSecret,
      "srt://host:9000/live?passphrase=" + kSecret,
      "srt://host:9000?passphrase=" + kSecret + "&mode=bogus",
      "srt://host:9000?passphrase=" + kSecret + "&pasphrase=" + kSecret,
      "srt://host:9000?passphrase=" + kSecret + "&passphrase=" + kSecret,
      "srt://host:9000?passphrase=" + kSecret + "%zz",
      "srt://host:9000?passphrase=" + kSecret + kSecret + kSecret + kSecret,
      "http://host:9000?passphrase=" + kSecret,
  };
  for (const auto& text : bad_with_secret) {
    CAPTURE(text);
    std::string error;
    CHECK_FALSE(parse_srt_url(text, &error).has_value());
    CHECK_FALSE(error.empty());
    CHECK(error.find("TopSecret") == std::string::npos);
  }
}

TEST_CASE("redacted() hides the passphrase and keeps everything else") {
  std::string error;
  const auto url =
      parse_srt_url("srt://ingest.example.org:9000?mode=caller&latency=500&passphrase=" + kSecret +
                        "&streamid=live",
                    &error);
  REQUIRE_MESSAGE(url.has_value(), error);
  const std::string shown = url->redacted();
  CHECK(shown.find(kSecret) == std::string::npos);
  CHECK(shown ==
        "srt://ingest.example.org:9000?mode=caller&latency=500&passphrase=***&streamid=live");
  CHECK(url->passphrase == kSecret);  // still there for the sender
}

TEST_CASE("modes print as their names") {
  CHECK(onair::config::to_string(SrtMode::caller) == "caller");
  CHECK(onair::config::to_string(SrtMode::listener) == "listener");
  CHECK(onair::config::to_string(SrtMode::rendezvous) == "rendezvous");
}
