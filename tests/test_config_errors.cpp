// Config validation: every kind of error, with its exact text and line, as one table.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/config.hpp"

using onair::config::load_config_text;
using onair::config::LoadOptions;

namespace {

// A valid document of nine lines; cases append sections from line 10 on.
const std::string kBase = R"(sources:
  primary:
    type: test
uplink:
  destinations:
    - name: ingest
      url: "srt://127.0.0.1:9000"
control:
  token: secret-token
)";

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::vector<std::string> errors;
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

const std::vector<ErrorCase>& cases() {
  static const std::vector<ErrorCase> table = {
      {"the issue's example: a misspelled SRT mode",
       R"(# onair on a mini-PC
video:
  width: 1280
  height: 720
sources:
  primary:
    type: test
control:
  token: secret-token
uplink:
  destinations:
    - { name: ingest, url: "srt://ingest.example.org:9000?mode=calller" }
)",
       {"onair.yaml:12: uplink.destinations[0].url: unknown SRT mode \"calller\" (expected "
        "caller, listener or rendezvous)"}},
      {"unknown key close to a known one",
       "\nvideo:\n  widht: 1280\n" + kBase,
       {"onair.yaml:3: video.widht: unknown key (did you mean \"width\"?)"}},
      {"unknown key far from any",
       kBase + "video:\n  size: 720p\n",
       {"onair.yaml:11: video.size: unknown key (expected width, height or framerate)"}},
      {"unknown top-level key",
       kBase + "vidoe:\n  width: 1280\nrecording: true\n",
       {"onair.yaml:10: vidoe: unknown key (did you mean \"video\"?)",
        "onair.yaml:12: recording: unknown key (expected video, audio, sources, failover, "
        "encoder, uplink, display, control, stream or log)"}},
      {"wrong types",
       kBase + "video:\n  width: big\n  height: 0x2d0\n  framerate: 29.97\n",
       {"onair.yaml:11: video.width: expected an integer, got \"big\"",
        "onair.yaml:12: video.height: expected an integer, got \"0x2d0\"",
        "onair.yaml:13: video.framerate: expected an integer, got \"29.97\""}},
      {"empty values and collections where scalars belong",
       kBase + "video:\n  width:\n  height: [720]\naudio:\n  enabled: {x: 1}\n",
       {"onair.yaml:11: video.width: expected an integer, got an empty value",
        "onair.yaml:12: video.height: expected an integer, got a list",
        "onair.yaml:14: audio.enabled: expected true or false, got a mapping"}},
      {"a section that is not a mapping",
       kBase + "video: 720p\nencoder: [x264]\n",
       {"onair.yaml:10: video: expected a mapping, got \"720p\"",
        "onair.yaml:11: encoder: expected a mapping, got a list"}},
      {"video ranges and evenness",
       kBase + "video:\n  width: 8\n  height: 721\n  framerate: 241\n",
       {"onair.yaml:11: video.width: must be 16..7680, got 8",
        "onair.yaml:12: video.height: must be even (4:2:0 video), got 721",
        "onair.yaml:13: video.framerate: must be 1..240, got 241"}},
      {"audio and encoder ranges",
       kBase + "audio:\n  bitrate_kbps: 8\n  enabled: maybe\nencoder:\n  bitrate_kbps: 50\n"
               "  keyframe_interval_s: 0.05\n  abr: yes\n",
       {"onair.yaml:11: audio.bitrate_kbps: must be 32..320 kbps, got 8",
        "onair.yaml:12: audio.enabled: expected true or false, got \"maybe\"",
        "onair.yaml:14: encoder.bitrate_kbps: must be 100..100000 kbps, got 50",
        "onair.yaml:15: encoder.keyframe_interval_s: must be 0.1..10 s, got 0.05"}},
      {"bitrate floor above the ceiling",
       kBase + "encoder:\n  bitrate_kbps: 1000\n  bitrate_min_kbps: 1500\n",
       {"onair.yaml:12: encoder.bitrate_min_kbps: must be at most encoder.bitrate_kbps (1000), got "
        "1500"}},
      {"a written ceiling below the default floor takes the blame itself",
       kBase + "encoder:\n  bitrate_kbps: 400\n",
       {"onair.yaml:11: encoder.bitrate_kbps: must be at least encoder.bitrate_min_kbps (500), got "
        "400"}},
      {"keyframe interval not a number",
       kBase + "encoder:\n  keyframe_interval_s: often\n",
       {"onair.yaml:11: encoder.keyframe_interval_s: expected a number, got \"often\""}},
      {"timeouts must be positive and ordered",
       kBase + "failover:\n  detect_timeout_ms: 0\n  failback_hold_ms: -1\n"
               "uplink2: 1\n",
       {"onair.yaml:11: failover.detect_timeout_ms: must be 10..60000 ms, got 0",
        "onair.yaml:12: failover.failback_hold_ms: must be 0..600000 ms, got -1",
        "onair.yaml:13: uplink2: unknown key (did you mean \"uplink\"?)"}},
      {"enums",
       kBase + "encoder:\n  type: x265\ndisplay:\n  sink: hdmi\nlog:\n  level: verbose\n",
       {"onair.yaml:11: encoder.type: unknown encoder type \"x265\" (expected auto, x264, "
        "openh264, vaapi, va, nvenc, v4l2m2m or qsv)",
        "onair.yaml:13: display.sink: unknown display sink \"hdmi\" (expected auto, kms, gl, x or "
        "none)",
        "onair.yaml:15: log.level: unknown log level \"verbose\" (expected trace, debug, info, "
        "warn or error)"}},
      {"bitrate policy",
       kBase + "encoder:\n  abr_policy: best\n",
       {"onair.yaml:11: encoder.abr_policy: unknown bitrate policy \"best\" (expected primary or "
        "worst)"}},
      {"duplicate key",
       kBase + "video:\n  width: 1280\n  width: 1920\n",
       {"onair.yaml:12: video.width: duplicate key (first at line 11)"}},
      {"YAML syntax error",
       "video:\n  width: [1280\nsources: {}\n",
       {"onair.yaml:3: invalid YAML: end of sequence flow not found"}},
      {"YAML syntax error: tab indentation",
       "video:\n\twidth: 1280\n",
       {"onair.yaml:2: invalid YAML: illegal map value"}},
  };
  return table;
}

// Cases that rewrite sources, uplink or control, so they cannot build on kBase.
const std::vector<ErrorCase>& structure_cases() {
  static const std::vector<ErrorCase> table = {
      {"an empty file names everything that is required",
       "# nothing yet\n",
       {"onair.yaml:1: sources.primary: required (e.g. primary: { type: test })",
        "onair.yaml:1: uplink.destinations: at least one destination is required",
        "onair.yaml:1: control.token: required: set a secret, e.g. the output of \"openssl rand "
        "-hex 16\", so that only the host can start or stop the stream"}},
      {"a document that is not a mapping",
       "- video\n",
       {"onair.yaml:1: (top level): expected a mapping, got a list"}},
      {"per-type requirements and keys that do not apply",
       R"(sources:
  primary:
    type: v4l2
    pattern: ball
  backup:
    type: srt
    device: /dev/video1
    stamp: true
  slate: { text: [1] }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t }
)",
       {"onair.yaml:2: sources.primary.device: required for a v4l2 source (e.g. /dev/video0)",
        "onair.yaml:4: sources.primary.pattern: only applies to a test source (this one is v4l2)",
        "onair.yaml:5: sources.backup.url: required for an srt source (e.g. "
        "srt://:9001?mode=listener)",
        "onair.yaml:7: sources.backup.device: only applies to a v4l2 source (this one is srt)",
        "onair.yaml:8: sources.backup.stamp: only applies to a test source (this one is srt)",
        "onair.yaml:9: sources.slate.text: expected a string, got a list"}},
      {"stamp is a boolean, and a typo of it gets a hint",
       R"(sources:
  primary: { type: test, stamp: maybe }
  backup: { type: test, stmap: true }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t }
)",
       {"onair.yaml:2: sources.primary.stamp: expected true or false, got \"maybe\"",
        "onair.yaml:3: sources.backup.stmap: unknown key (did you mean \"stamp\"?)"}},
      {"source type, pattern and device values",
       R"(sources:
  primary: { type: usb }
  backup: { type: test, pattern: smtpe }
  extra: { type: test }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t }
sources2:
)",
       {"onair.yaml:2: sources.primary.type: unknown source type \"usb\" (expected test, v4l2, "
        "libcamera or srt)",
        "onair.yaml:3: sources.backup.pattern: unknown test pattern \"smtpe\" (did you mean "
        "\"smpte\"?)",
        "onair.yaml:4: sources.extra: unknown key (expected primary, backup or slate)",
        "onair.yaml:7: sources2: unknown key (did you mean \"sources\"?)"}},
      {"missing type and a bad device path",
       R"(sources:
  primary: { device: /dev/video0 }
  backup: { type: v4l2, device: video0 }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t }
)",
       {"onair.yaml:2: sources.primary.type: required (expected test, v4l2, libcamera or srt)",
        "onair.yaml:3: sources.backup.device: must be a device path like /dev/video0, got "
        "\"video0\""}},
      {"destination names and URLs",
       R"(sources: { primary: { type: test } }
uplink:
  destinations:
    - name: ingest
      url: srt://a.example:9000
    - name: ingest
      url: srt://b.example:9000
    - name: ""
      url: srt://c.example:9000
    - name: my ingest
      url: srt://d.example
    - { name: x, link: srt://e.example:9000 }
control: { token: t }
)",
       {"onair.yaml:6: uplink.destinations[1].name: duplicate destination name \"ingest\" (also "
        "at line 4)",
        "onair.yaml:8: uplink.destinations[2].name: must not be empty",
        "onair.yaml:10: uplink.destinations[3].name: must be 1..64 letters, digits, '-', '_' or "
        "'.', got \"my ingest\"",
        "onair.yaml:11: uplink.destinations[3].url: missing port in \"srt://d.example\"",
        "onair.yaml:12: uplink.destinations[4].link: unknown key (expected name or url)",
        "onair.yaml:12: uplink.destinations[4].url: required (e.g. "
        "srt://ingest.example.org:9000?mode=caller)"}},
      {"no destinations",
       "sources: { primary: { type: test } }\nuplink:\n  destinations: []\ncontrol: { token: t }\n",
       {"onair.yaml:3: uplink.destinations: at least one destination is required"}},
      {"destinations not a list",
       "sources: { primary: { type: test } }\nuplink:\n  destinations: srt://h:9000\ncontrol: { "
       "token: t }\n",
       {"onair.yaml:3: uplink.destinations: expected a list, got \"srt://h:9000\""}},
      {"uplink tuning ranges and order",
       R"(sources: { primary: { type: test } }
uplink:
  destinations: [ { url: "srt://h:9000" } ]
  peer_idle_timeout_ms: 0
  queue_ms: 100000
  reconnect_min_ms: 3000
  reconnect_max_ms: 2000
  recovery_keyframes: sometimes
control: { token: t }
)",
       {"onair.yaml:4: uplink.peer_idle_timeout_ms: must be 100..600000 ms, got 0",
        "onair.yaml:5: uplink.queue_ms: must be 20..10000 ms, got 100000",
        "onair.yaml:6: uplink.reconnect_min_ms: must be at most uplink.reconnect_max_ms (2000), "
        "got 3000",
        "onair.yaml:8: uplink.recovery_keyframes: expected true or false, got \"sometimes\""}},
      {"two SRT listeners on one port",
       R"(sources:
  primary: { type: test }
  backup: { type: srt, url: "srt://:9001?mode=listener" }
uplink:
  destinations:
    - { name: local, url: "srt://127.0.0.1:9001?mode=listener" }
control: { token: t }
)",
       {"onair.yaml:6: uplink.destinations[0].url: port 9001 is already taken by the SRT listener "
        "at sources.backup.url (line 3)"}},
      {"control.listen forms",
       R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control:
  listen: "8080"
  token: " "
)",
       {"onair.yaml:4: control.listen: expected HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080, got "
        "\"8080\"",
        "onair.yaml:5: control.token: must not contain spaces or control characters"}},
      {"control.listen port out of range",
       R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { listen: "0.0.0.0:65536", token: "" }
)",
       {"onair.yaml:3: control.listen: port must be 0..65535, got \"65536\"",
        "onair.yaml:3: control.token: must not be empty: set a secret, e.g. the output of "
        "\"openssl rand -hex 16\", so that only the host can start or stop the stream"}},
      {"control: read-only token, public health and TLS keys",
       R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control:
  token: same-token
  read_token: same-token
  public_health: maybe
  tls: { cert: /etc/onair/cert.pem, chain: x }
)",
       {"onair.yaml:5: control.read_token: must differ from control.token (it grants less)",
        "onair.yaml:6: control.public_health: expected true or false, got \"maybe\"",
        "onair.yaml:7: control.tls.chain: unknown key (expected cert or key)",
        "onair.yaml:7: control.tls.key: required with tls.cert (a PEM file)"}},
      {"control.read_token text",
       R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { token: t, read_token: "a b", tls: { key: k.pem } }
)",
       {"onair.yaml:3: control.read_token: must not contain spaces or control characters",
        "onair.yaml:3: control.tls.cert: required with tls.key (a PEM file)"}},
      {"control.listen host problems",
       R"(sources: { primary: { type: test } }
uplink: { destinations: [ { url: "srt://h:9000" } ] }
control: { listen: "::1:8080" }
stream: { listen: "a b:80" }
)",
       {"onair.yaml:3: control.listen: IPv6 address must be in brackets, e.g. [::1]:9000, got "
        "\"::1:8080\"",
        "onair.yaml:3: control.token: required: set a secret, e.g. the output of \"openssl rand "
        "-hex 16\", so that only the host can start or stop the stream",
        "onair.yaml:4: stream.listen: unknown key (expected autostart)"}},
  };
  return table;
}

void check_cases(const std::vector<ErrorCase>& table) {
  for (const auto& c : table) {
    CAPTURE(c.name);
    const auto result = load_config_text(c.yaml, "onair.yaml");
    CHECK(joined(result.errors) == joined(c.errors));
    CHECK_FALSE(result.config.has_value());
  }
}

}  // namespace

TEST_CASE("the base document of the error table is valid") {
  const auto result = load_config_text(kBase, "onair.yaml");
  CHECK(joined(result.errors) == "");
  CHECK(result.config.has_value());
}

TEST_CASE("values, types and ranges: exact messages and lines") { check_cases(cases()); }

TEST_CASE("sources, destinations and control: exact messages and lines") {
  check_cases(structure_cases());
}

TEST_CASE("encoder.type takes the names of the encoder fragments onair runs with: a new encoder is one file") {
  const LoadOptions options{{"nvenc", "x264", "myboard"}};  // as encoder_names() lists a pipelines/ folder
  const auto mine = load_config_text(kBase + "encoder:\n  type: myboard\n", "onair.yaml", options);
  CHECK(joined(mine.errors) == "");
  REQUIRE(mine.config.has_value());
  CHECK(mine.config->encoder.type == "myboard");
  CHECK(load_config_text(kBase + "encoder:\n  type: auto\n", "onair.yaml", options).errors.empty());
  const auto typo = load_config_text(kBase + "encoder:\n  type: x246\n", "onair.yaml", options);
  CHECK(joined(typo.errors) ==
        "onair.yaml:11: encoder.type: unknown encoder type \"x246\" (expected auto, nvenc, x264 or myboard)\n");
  // Without the folder's names, a name only a fragment knows is an error.
  CHECK_FALSE(load_config_text(kBase + "encoder:\n  type: myboard\n", "onair.yaml").errors.empty());
}

TEST_CASE("the caller's file name is used as given") {
  const auto result = load_config_text("video: 1\n", "config/demo.yaml");
  REQUIRE_FALSE(result.errors.empty());
  CHECK(result.errors.front() == "config/demo.yaml:1: video: expected a mapping, got \"1\"");
}

TEST_CASE("several errors in one file are all reported, in line order") {
  const std::string yaml = R"(control: { token: t }
video: { width: 1281, framerate: 0 }
sources:
  primary: { type: srt, url: "srt://cam:9000?latency=abc" }
uplink:
  destinations:
    - url: "udp://127.0.0.1:9000"
display: { sink: hdmi }
)";
  const auto result = load_config_text(yaml, "demo.yaml");
  CHECK(joined(result.errors) ==
        joined({"demo.yaml:2: video.width: must be even (4:2:0 video), got 1281",
                "demo.yaml:2: video.framerate: must be 1..240, got 0",
                "demo.yaml:4: sources.primary.url: latency must be 0..60000 ms, got \"abc\"",
                "demo.yaml:7: uplink.destinations[0].url: not an srt:// URL: "
                "\"udp://127.0.0.1:9000\"",
                "demo.yaml:8: display.sink: unknown display sink \"hdmi\" (expected auto, kms, "
                "gl, x or none)"}));
}
