// onair's configuration: defaults → one YAML file → validation. Every error names the file,
// line, key path and what is wrong; unknown keys are errors with a hint.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/srt_url.hpp"

namespace onair::config {

struct VideoConfig {
  int width = 1280;
  int height = 720;
  int framerate = 30;
};

struct AudioConfig {
  bool enabled = true;
  int bitrate_kbps = 128;
};

// One camera or network source. Which fields apply depends on `type`.
struct SourceConfig {
  std::string type;               // test | v4l2 | libcamera | srt
  std::string device;             // v4l2: /dev/video0
  std::string camera;             // libcamera: camera name, empty = first
  std::string url_text;           // srt: as written (may hold a passphrase: use url.redacted())
  SrtUrl url;                     // srt: parsed
  std::string pattern = "smpte";  // test: videotestsrc pattern
  bool stamp = false;  // test: draw the capture time as a bar code (glass-to-glass measurement)
  std::string label;  // panel/status name, drawn on test pictures (default: "primary"/"backup")
};

struct SlateConfig {
  std::string image;  // PNG/JPEG path; empty = generated card
  std::string text = "We'll be right back";
};

struct SourcesConfig {
  SourceConfig primary;
  std::optional<SourceConfig> backup;
  SlateConfig slate;
};

struct FailoverConfig {
  int detect_timeout_ms = 100;  // no frame for this long = source unhealthy
  int failback_hold_ms = 3000;  // a higher-priority source must be healthy this long first
};

struct EncoderConfig {
  std::string type = "auto";   // auto | x264 | openh264 | vaapi | va | nvenc | v4l2m2m | qsv
  int bitrate_kbps = 4000;     // ceiling (and start) bitrate
  int bitrate_min_kbps = 500;  // floor for the adaptive controller
  double keyframe_interval_s = 1.0;
  bool abr = true;
  std::string abr_policy = "primary";  // primary | worst: which destination the bitrate follows
};

struct Destination {
  std::string name;      // unique; "dest<index>" when the file gives none
  std::string url_text;  // as written; may hold a passphrase: use url.redacted()
  SrtUrl url;
};

struct UplinkConfig {
  std::vector<Destination> destinations;
  int peer_idle_timeout_ms = 1000;  // no ACK for this long = link down (SRTO_PEERIDLETIMEO)
  int queue_ms = 1000;              // per-destination send queue, in media time; overflow drops
  int reconnect_min_ms = 200;       // reconnect backoff, doubling up to max
  int reconnect_max_ms = 5000;
  // While a link is quiet (a drop-out), ask the encoder for a keyframe every quarter SRT latency
  // so the picture is back the moment the path is; off for an ingest that needs a regular GOP.
  bool recovery_keyframes = true;
};

struct DisplayConfig {
  std::string sink = "auto";  // auto | kms | gl | x | none
};

struct ControlConfig {
  std::string listen = "0.0.0.0:8080";
  std::string host = "0.0.0.0";  // parsed from listen
  uint16_t port = 8080;          // parsed from listen; 0 = any free port (tests)
  std::string token;             // required for mutating calls; never printed
  std::string read_token;        // optional: may read status/live/preview, change nothing; never printed
  bool public_health = true;     // /healthz, /readyz, /metrics without a token
  std::string tls_cert;          // PEM files: both set = HTTPS/WSS only; relative to the config file
  std::string tls_key;
};

struct StreamConfig {
  bool autostart = true;
};

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error
};

struct Config {
  std::string path;  // the file it came from ("<string>" when loaded from text)
  VideoConfig video;
  AudioConfig audio;
  SourcesConfig sources;
  FailoverConfig failover;
  EncoderConfig encoder;
  UplinkConfig uplink;
  DisplayConfig display;
  ControlConfig control;
  StreamConfig stream;
  LogConfig log;
};

// What a configuration is checked against beyond itself.
struct LoadOptions {
  // The names encoder.type may take besides `auto`: the @name of each fragment in
  // pipelines/encoders, so a new encoder is one file (program::encoder_names()). Empty: the shipped ones.
  std::vector<std::string> encoder_types;
};

struct LoadResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<std::string> errors;  // "file:line: key.path: what is wrong"
};

// Errors name the file as `path` is written. A relative sources.slate.image is resolved
// against the file's directory.
LoadResult load_config_file(const std::string& path, const LoadOptions& options = {});
// `name` stands in for the file name in error messages.
LoadResult load_config_text(const std::string& yaml, const std::string& name, const LoadOptions& options = {});

// The effective configuration as YAML with secrets redacted (for --print-config and logs).
std::string dump_redacted(const Config& config);

}  // namespace onair::config
