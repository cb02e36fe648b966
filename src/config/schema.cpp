#include "config/schema.hpp"

#include <algorithm>

#include "config/host_port.hpp"
#include "config/text_util.hpp"

namespace onair::config::detail {

namespace {

constexpr std::string_view kEncoderTypes[] = {"auto", "x264",  "openh264", "vaapi",
                                              "va",   "nvenc", "v4l2m2m",  "qsv"};
constexpr std::string_view kAbrPolicies[] = {"primary", "worst"};
constexpr std::string_view kDisplaySinks[] = {"auto", "kms", "gl", "x", "none"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kTokenHow =
    "set a secret, e.g. the output of \"openssl rand -hex 16\", so that only the host can "
    "start or stop the stream";

void read_video(MapReader m, VideoConfig& out) {
  for (auto [key, value] : {std::pair{"width", &out.width}, std::pair{"height", &out.height}}) {
    if (m.read_int(key, *value, {16, 7680, ""}) && *value % 2 != 0) {
      m.errors().add(m.line_of(key), m.path_of(key),
                     "must be even (4:2:0 video), got " + std::to_string(*value));
    }
  }
  m.read_int("framerate", out.framerate, {1, 240, ""});
}

void read_audio(MapReader m, AudioConfig& out) {
  m.read_bool("enabled", out.enabled);
  m.read_int("bitrate_kbps", out.bitrate_kbps, {32, 320, "kbps"});
}

void read_failover(MapReader m, FailoverConfig& out) {
  m.read_int("detect_timeout_ms", out.detect_timeout_ms, {10, 60000, "ms"});
  m.read_int("failback_hold_ms", out.failback_hold_ms, {0, 600000, "ms"});
}

void read_encoder(MapReader m, EncoderConfig& out, const std::vector<std::string>& types) {
  if (types.empty()) {
    m.read_choice("type", out.type, kEncoderTypes, "encoder type");
  } else {
    std::vector<std::string_view> allowed{"auto"};
    allowed.insert(allowed.end(), types.begin(), types.end());
    m.read_choice("type", out.type, allowed, "encoder type");
  }
  const bool ceiling_ok = m.read_int("bitrate_kbps", out.bitrate_kbps, {100, 100000, "kbps"});
  const bool floor_ok = m.read_int("bitrate_min_kbps", out.bitrate_min_kbps, {100, 100000, "kbps"});
  if ((ceiling_ok || !m.has("bitrate_kbps")) && (floor_ok || !m.has("bitrate_min_kbps"))) {
    check_order(m, "bitrate_min_kbps", out.bitrate_min_kbps, "bitrate_kbps", out.bitrate_kbps);
  }
  m.read_number("keyframe_interval_s", out.keyframe_interval_s, {0.1, 10, "s"});
  m.read_bool("abr", out.abr);
  m.read_choice("abr_policy", out.abr_policy, kAbrPolicies, "bitrate policy");
}

void read_display(MapReader m, DisplayConfig& out) {
  m.read_choice("sink", out.sink, kDisplaySinks, "display sink");
}

void read_listen(MapReader& m, ControlConfig& out) {
  if (!m.read_string("listen", out.listen)) return;
  const int line = m.line_of("listen");
  const std::string path = m.path_of("listen");
  std::string error;
  const auto parts = split_host_port(out.listen, &error);
  if (!parts) {
    m.errors().add(line, path, error);
    return;
  }
  if (!parts->has_port || parts->port_text.empty()) {
    m.errors().add(line, path,
                   "expected HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080, got " + quoted(out.listen));
    return;
  }
  const auto port = parse_port(parts->port_text, 0);
  if (!port) {
    m.errors().add(line, path, "port must be 0..65535, got " + quoted(parts->port_text));
    return;
  }
  if (!parts->host.empty()) {
    if (auto problem = host_problem(parts->host)) {
      m.errors().add(line, path, *problem);
      return;
    }
  }
  out.host = parts->host.empty() ? "0.0.0.0" : parts->host;  // ":8080" listens everywhere
  out.port = *port;
}

// A token travels in "Authorization: Bearer <token>", which has no room for spaces.
bool check_token_text(MapReader& m, std::string_view key, const std::string& token) {
  if (std::any_of(token.begin(), token.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    m.errors().add(m.line_of(key), m.path_of(key), "must not contain spaces or control characters");
    return false;
  }
  return true;
}

void read_control_extras(MapReader& m, ControlConfig& out) {
  m.read_bool("public_health", out.public_health);
  if (m.read_string("read_token", out.read_token)) {
    if (out.read_token.empty()) {
      m.errors().add(m.line_of("read_token"), m.path_of("read_token"),
                     "must not be empty (leave the key out for no read-only token)");
    } else if (check_token_text(m, "read_token", out.read_token) && out.read_token == out.token) {
      m.errors().add(m.line_of("read_token"), m.path_of("read_token"),
                     "must differ from control.token (it grants less)");
    }
  }
  MapReader tls = m.map("tls", {"cert", "key"});
  if (!tls.is_mapping() || !m.has("tls")) return;
  tls.read_string("cert", out.tls_cert);
  tls.read_string("key", out.tls_key);
  for (auto [key, other] : {std::pair{"cert", "key"}, std::pair{"key", "cert"}}) {
    if (tls.has(key) && !tls.has(other)) {
      tls.errors().add(tls.line_of(key), tls.path_of(other),
                       std::string("required with tls.") + key + " (a PEM file)");
    }
  }
}

void read_control(MapReader m, ControlConfig& out) {
  if (!m.is_mapping()) return;
  read_listen(m, out);
  // A box on a shared venue network must not have an open control plane.
  if (!m.has("token")) {
    m.errors().add(m.line(), m.path_of("token"), "required: " + std::string(kTokenHow));
  } else if (m.read_string("token", out.token)) {
    if (out.token.empty()) {
      m.errors().add(m.line_of("token"), m.path_of("token"),
                     "must not be empty: " + std::string(kTokenHow));
    } else {
      check_token_text(m, "token", out.token);
    }
  }
  read_control_extras(m, out);
}

void read_stream(MapReader m, StreamConfig& out) { m.read_bool("autostart", out.autostart); }

void read_log(MapReader m, LogConfig& out) {
  m.read_choice("level", out.level, kLogLevels, "log level");
}

}  // namespace

void read_config(const YAML::Node& root, Config& config, Errors& errors, const LoadOptions& options) {
  MapReader top(root, "", 1,
                {"video", "audio", "sources", "failover", "encoder", "uplink", "display", "control",
                 "stream", "log"},
                errors);
  if (!top.is_mapping()) return;
  std::vector<SrtEndpoint> endpoints;
  read_video(top.map("video", {"width", "height", "framerate"}), config.video);
  read_audio(top.map("audio", {"enabled", "bitrate_kbps"}), config.audio);
  MapReader sources = top.map("sources", {"primary", "backup", "slate"});
  read_sources(sources, config.sources, endpoints);
  read_failover(top.map("failover", {"detect_timeout_ms", "failback_hold_ms"}), config.failover);
  read_encoder(top.map("encoder",
                       {"type", "bitrate_kbps", "bitrate_min_kbps", "keyframe_interval_s", "abr",
                        "abr_policy"}),
               config.encoder, options.encoder_types);
  MapReader uplink = top.map("uplink", {"destinations", "peer_idle_timeout_ms", "queue_ms",
                                        "reconnect_min_ms", "reconnect_max_ms", "recovery_keyframes"});
  read_uplink(uplink, config.uplink, endpoints);
  read_display(top.map("display", {"sink"}), config.display);
  read_control(top.map("control", {"listen", "token", "read_token", "public_health", "tls"}),
               config.control);
  read_stream(top.map("stream", {"autostart"}), config.stream);
  read_log(top.map("log", {"level"}), config.log);
  check_listener_ports(endpoints, errors);
}

}  // namespace onair::config::detail
