// Config loading: values and defaults, the real config files, files on disk, redaction.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"

using onair::config::Config;
using onair::config::dump_redacted;
using onair::config::load_config_file;
using onair::config::load_config_text;
using onair::config::SrtMode;

namespace {

const std::string kSourceDir = ONAIR_SOURCE_DIR;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

Config load_valid(const std::string& yaml) {
  const auto result = load_config_text(yaml, "test.yaml");
  REQUIRE_MESSAGE(result.config.has_value(), joined(result.errors));
  return *result.config;
}

// A directory of its own under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("onair-test-config-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file) << text;
    return file.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const std::string kMinimal = R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://127.0.0.1:9000" } ] }
control: { token: tok }
)";

}  // namespace

TEST_CASE("config/demo.yaml from the source tree loads with the demo's values") {
  const auto result = load_config_file(kSourceDir + "/config/demo.yaml");
  REQUIRE_MESSAGE(result.config.has_value(), joined(result.errors));
  const Config& c = *result.config;
  CHECK(c.path == kSourceDir + "/config/demo.yaml");
  CHECK(c.video.width == 1280);
  CHECK(c.video.height == 720);
  CHECK(c.video.framerate == 30);
  CHECK(c.sources.primary.type == "test");
  REQUIRE(c.sources.backup.has_value());
  CHECK(c.sources.backup->type == "srt");
  CHECK(c.sources.backup->url.host == "");
  CHECK(c.sources.backup->url.port == 9001);
  CHECK(c.sources.backup->url.mode == SrtMode::listener);
  CHECK(c.sources.backup->url.latency_ms == 200);
  CHECK((c.encoder.type == "x264" || c.encoder.type == "auto"));
  CHECK(c.encoder.bitrate_kbps == 2500);
  REQUIRE(c.uplink.destinations.size() == 1);
  CHECK(c.uplink.destinations[0].name == "ingest");
  CHECK(c.uplink.destinations[0].url.redacted() == "srt://127.0.0.1:9000?mode=caller&latency=120");
  CHECK(c.display.sink == "auto");
  CHECK(c.control.host == "0.0.0.0");
  CHECK(c.control.port == 8080);
  CHECK(c.control.token == "demo");
  CHECK(c.stream.autostart);
}

TEST_CASE("config/onair.yaml from the source tree loads as the mini-PC reference") {
  const auto result = load_config_file(kSourceDir + "/config/onair.yaml");
  REQUIRE_MESSAGE(result.config.has_value(), joined(result.errors));
  const Config& c = *result.config;
  CHECK(c.sources.primary.type == "v4l2");
  CHECK(c.sources.primary.device == "/dev/video0");
  REQUIRE(c.sources.backup.has_value());
  CHECK(c.sources.backup->url.mode == SrtMode::listener);
  CHECK(c.sources.backup->url.port == 9001);
  CHECK_FALSE(c.sources.backup->url.passphrase.empty());
  CHECK(c.encoder.type == "auto");
  REQUIRE(c.uplink.destinations.size() == 1);
  const auto& ingest = c.uplink.destinations[0].url;
  CHECK(ingest.mode == SrtMode::caller);
  CHECK(ingest.host == "ingest.example.org");
  CHECK(ingest.port == 9000);
  CHECK_FALSE(ingest.passphrase.empty());
  CHECK(ingest.streamid == "#!::r=live/event,m=publish");
  CHECK(c.control.listen == "0.0.0.0:8080");
  CHECK_FALSE(c.control.token.empty());
  CHECK(c.stream.autostart);
}

TEST_CASE("keys left out take their documented defaults") {
  const Config c = load_valid(kMinimal);
  const Config defaults;
  CHECK(c.path == "test.yaml");
  CHECK(c.video.width == 1280);
  CHECK(c.video.height == 720);
  CHECK(c.video.framerate == 30);
  CHECK(c.audio.enabled);
  CHECK(c.audio.bitrate_kbps == 128);
  CHECK(c.sources.primary.pattern == "smpte");
  CHECK_FALSE(c.sources.primary.stamp);
  CHECK(c.sources.primary.label == "primary");
  CHECK_FALSE(c.sources.backup.has_value());
  CHECK(c.sources.slate.image == "");
  CHECK(c.sources.slate.text == "We'll be right back");
  CHECK(c.failover.detect_timeout_ms == 100);
  CHECK(c.failover.failback_hold_ms == 3000);
  CHECK(c.encoder.type == "auto");
  CHECK(c.encoder.bitrate_kbps == 4000);
  CHECK(c.encoder.bitrate_min_kbps == 500);
  CHECK(c.encoder.keyframe_interval_s == doctest::Approx(1.0));
  CHECK(c.encoder.abr);
  CHECK(c.encoder.abr_policy == "primary");
  REQUIRE(c.uplink.destinations.size() == 1);
  CHECK(c.uplink.destinations[0].name == "dest0");
  CHECK(c.uplink.destinations[0].url.latency_ms == 120);
  CHECK(c.uplink.destinations[0].url.mode == SrtMode::caller);
  CHECK(c.uplink.peer_idle_timeout_ms == defaults.uplink.peer_idle_timeout_ms);
  CHECK(c.uplink.queue_ms == defaults.uplink.queue_ms);
  CHECK(c.uplink.reconnect_min_ms == 200);
  CHECK(c.uplink.reconnect_max_ms == 5000);
  CHECK(c.uplink.recovery_keyframes);
  CHECK(c.display.sink == "auto");
  CHECK(c.control.listen == "0.0.0.0:8080");
  CHECK(c.control.port == 8080);
  CHECK(c.log.level == "info");
  CHECK(c.stream.autostart);
}

TEST_CASE("values given override the defaults") {
  const Config c = load_valid(kMinimal + R"(video: { width: 1920, height: 1080, framerate: 60 }
audio: { enabled: no, bitrate_kbps: 96 }
encoder: { type: vaapi, bitrate_kbps: 6000, bitrate_min_kbps: 1000, keyframe_interval_s: 0.5, abr: off, abr_policy: worst }
failover: { detect_timeout_ms: 250, failback_hold_ms: 0 }
display: { sink: none }
stream: { autostart: False }
log: { level: debug }
)");
  CHECK(c.video.width == 1920);
  CHECK(c.video.framerate == 60);
  CHECK_FALSE(c.audio.enabled);
  CHECK(c.audio.bitrate_kbps == 96);
  CHECK(c.encoder.type == "vaapi");
  CHECK(c.encoder.bitrate_min_kbps == 1000);
  CHECK(c.encoder.keyframe_interval_s == doctest::Approx(0.5));
  CHECK_FALSE(c.encoder.abr);
  CHECK(c.encoder.abr_policy == "worst");
  CHECK(c.failover.detect_timeout_ms == 250);
  CHECK(c.failover.failback_hold_ms == 0);
  CHECK(c.display.sink == "none");
  CHECK_FALSE(c.stream.autostart);
  CHECK(c.log.level == "debug");
  const Config regular_gop = load_valid(R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://127.0.0.1:9000" } ], recovery_keyframes: false }
control: { token: tok }
)");
  CHECK_FALSE(regular_gop.uplink.recovery_keyframes);
}

TEST_CASE("control.listen accepts IPv4, names, [IPv6] and port 0") {
  struct Case {
    std::string listen;
    std::string host;
    uint16_t port;
  };
  const std::vector<Case> cases = {{"127.0.0.1:0", "127.0.0.1", 0},
                                   {"[::]:8080", "::", 8080},
                                   {"[::1]:65535", "::1", 65535},
                                   {"localhost:80", "localhost", 80},
                                   {":9090", "0.0.0.0", 9090}};
  for (const auto& c : cases) {
    CAPTURE(c.listen);
    const Config config = load_valid(
        "sources: { primary: { type: test } }\n"
        "uplink: { destinations: [ { url: \"srt://h:9000\" } ] }\n"
        "control: { token: tok, listen: \"" +
        c.listen + "\" }\n");
    CHECK(config.control.listen == c.listen);
    CHECK(config.control.host == c.host);
    CHECK(config.control.port == c.port);
  }
}

TEST_CASE("source-specific fields and several destinations load") {
  const Config c = load_valid(R"(sources:
  primary: { type: libcamera, camera: "/base/soc/i2c0mux/imx708", label: stage }
  backup: { type: srt, url: "srt://:9001?mode=listener&streamid=phone" }
  slate: { image: /srv/slate.png, text: "Back soon" }
uplink:
  destinations:
    - { name: main, url: "srt://a.example:9000?mode=caller&latency=800" }
    - { url: "srt://:9100?mode=listener" }
control: { token: tok }
)");
  CHECK(c.sources.primary.camera == "/base/soc/i2c0mux/imx708");
  CHECK(c.sources.primary.label == "stage");
  CHECK(c.sources.backup->label == "backup");
  CHECK(c.sources.backup->url.streamid == "phone");
  CHECK(c.sources.backup->url_text == "srt://:9001?mode=listener&streamid=phone");
  CHECK(c.sources.slate.image == "/srv/slate.png");
  CHECK(c.sources.slate.text == "Back soon");
  REQUIRE(c.uplink.destinations.size() == 2);
  CHECK(c.uplink.destinations[0].url.latency_ms == 800);
  CHECK(c.uplink.destinations[1].name == "dest1");
  CHECK(c.uplink.destinations[1].url.mode == SrtMode::listener);
}

TEST_CASE("an empty backup section means no backup") {
  const Config c = load_valid(R"(sources:
  primary: { type: test }
  backup:
uplink: { destinations: [ { url: "srt://127.0.0.1:9000" } ] }
control: { token: tok }
)");
  CHECK_FALSE(c.sources.backup.has_value());
}

TEST_CASE("a missing or unreadable file is reported with its path and the OS reason") {
  TempDir dir;
  const std::string missing = (dir.path() / "nope.yaml").string();
  CHECK(joined(load_config_file(missing).errors) ==
        missing + ": cannot read config file: No such file or directory\n");
  CHECK(joined(load_config_file(dir.path().string()).errors) ==
        dir.path().string() + ": cannot read config file: Is a directory\n");
}

TEST_CASE("a config file on disk: errors carry its path; a relative slate image is resolved") {
  TempDir dir;
  const std::string good = dir.write("good.yaml", kMinimal + "sources2: 1\n");
  CHECK(joined(load_config_file(good).errors) ==
        good + ":4: sources2: unknown key (did you mean \"sources\"?)\n");
  const std::string with_slate = dir.write("slate.yaml", R"(sources:
  primary: { type: test }
  slate: { image: cards/slate.png }
uplink: { destinations: [ { url: "srt://127.0.0.1:9000" } ] }
control: { token: tok }
)");
  const auto result = load_config_file(with_slate);
  REQUIRE_MESSAGE(result.config.has_value(), joined(result.errors));
  CHECK(result.config->sources.slate.image == (dir.path() / "cards/slate.png").string());
}

TEST_CASE("dump_redacted shows the effective config without the token or any passphrase") {
  const std::string token = "tok-5f0c1a9e";
  const std::string uplink_secret = "uplink-secret-123";
  const std::string phone_secret = "phone-secret-456";
  const Config c = load_valid(R"(sources:
  primary: { type: test }
  backup: { type: srt, url: "srt://:9001?mode=listener&passphrase=)" +
                              phone_secret + R"(" }
uplink:
  destinations:
    - { name: ingest, url: "srt://ingest.example.org:9000?passphrase=)" +
                              uplink_secret + R"(&pbkeylen=24" }
control: { token: )" + token + R"( }
)");
  const std::string dump = dump_redacted(c);
  CHECK(dump.find(token) == std::string::npos);
  CHECK(dump.find(uplink_secret) == std::string::npos);
  CHECK(dump.find(phone_secret) == std::string::npos);
  CHECK(dump.find("token: \"***\"") != std::string::npos);
  CHECK(dump.find("url: srt://:9001?mode=listener&latency=120&passphrase=***") !=
        std::string::npos);
  CHECK(dump.find(
            "url: "
            "srt://ingest.example.org:9000?mode=caller&latency=120&passphrase=***&pbkeylen=24") !=
        std::string::npos);
  CHECK(dump.find("keyframe_interval_s: 1\n") != std::string::npos);
}

TEST_CASE("a test source can draw its capture stamp, and the dump says so") {
  const Config c = load_valid(R"(sources:
  primary: { type: test, stamp: true }
  backup: { type: test }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t }
)");
  CHECK(c.sources.primary.stamp);
  CHECK_FALSE(c.sources.backup->stamp);
  const std::string dump = dump_redacted(c);
  CHECK(dump.find("stamp: true\n") != std::string::npos);
  CHECK(dump.find("stamp: false\n") != std::string::npos);
}

TEST_CASE("dump_redacted reads back as the same config") {
  const auto demo = load_config_file(kSourceDir + "/config/demo.yaml");
  REQUIRE_MESSAGE(demo.config.has_value(), joined(demo.errors));
  const std::string first = dump_redacted(*demo.config);
  const auto again = load_config_text(first, "dump.yaml");
  REQUIRE_MESSAGE(again.config.has_value(), joined(again.errors));
  CHECK(dump_redacted(*again.config) == first);
}

TEST_CASE("no error message shows a token or passphrase, wherever it was written") {
  const std::string secret = "Hush-0123456789";
  const std::vector<std::string> documents = {
      // a URL with a secret and another problem
      "sources: { primary: { type: srt, url: \"srt://cam:9000?passphrase=" + secret +
          "&latency=x\" } }\ncontrol: { token: " + secret + " }\n",
      // a URL where a list or mapping belongs
      "sources: { primary: { type: test }, backup: \"srt://:9001?mode=listener&passphrase=" +
          secret + "\" }\nuplink: { destinations: \"srt://h:1?passphrase=" + secret + "\" }\n",
      "uplink: { destinations: [ \"srt://h:1?passphrase=" + secret + "\" ] }\n",
      // a token and a passphrase under misspelled keys
      "control: { tokn: " + secret +
          " }\nuplink: { destinations: [ { url: \"srt://h:1?pasphrase=" + secret + "\" } ] }\n",
      // a passphrase of the wrong length, a bad port, a wrong scheme
      "uplink: { destinations: [ { url: \"srt://h:1?passphrase=" + secret + secret + secret +
          secret + secret + secret + "\" }, { url: \"srt://h:0?passphrase=" + secret +
          "\" }, { url: \"rtmp://h/app?passphrase=" + secret + "\" } ] }\n",
      // a token that is not a string
      "control: { token: { value: " + secret + " } }\n",
  };
  for (const auto& yaml : documents) {
    CAPTURE(yaml);
    const auto result = load_config_text(yaml, "secret.yaml");
    REQUIRE_FALSE(result.errors.empty());
    for (const auto& error : result.errors) {
      CAPTURE(error);
      CHECK(error.find("Hush") == std::string::npos);
    }
  }
}

TEST_CASE("control: read-only token, public health toggle, TLS files relative to the config file") {
  const Config defaults = load_valid(kMinimal);
  CHECK(defaults.control.read_token.empty());
  CHECK(defaults.control.public_health);
  CHECK(defaults.control.tls_cert.empty());
  TempDir dir;
  const std::string file = dir.write("tls.yaml", R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://127.0.0.1:9000" } ] }
control:
  token: tok-control-1
  read_token: tok-viewer-2
  public_health: false
  tls: { cert: tls/cert.pem, key: /etc/onair/key.pem }
)");
  const auto result = load_config_file(file);
  REQUIRE_MESSAGE(result.config.has_value(), joined(result.errors));
  const auto& control = result.config->control;
  CHECK(control.read_token == "tok-viewer-2");
  CHECK_FALSE(control.public_health);
  CHECK(control.tls_cert == (dir.path() / "tls/cert.pem").string());
  CHECK(control.tls_key == "/etc/onair/key.pem");
  const std::string dump = dump_redacted(*result.config);
  CHECK(dump.find("tok-viewer-2") == std::string::npos);
  CHECK(dump.find("read_token: \"***\"") != std::string::npos);
  CHECK(dump.find("public_health: false") != std::string::npos);
}
