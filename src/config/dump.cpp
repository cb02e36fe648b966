#include <yaml-cpp/yaml.h>

#include <charconv>

#include "config/config.hpp"

namespace onair::config {

namespace {

constexpr std::string_view kRedacted = "***";

// Shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
std::string number_text(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc{} ? std::string(buffer, end) : std::to_string(value);
}

void emit_source(YAML::Emitter& out, const SourceConfig& source) {
  out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << source.type;
  if (source.type == "v4l2") out << YAML::Key << "device" << YAML::Value << source.device;
  if (source.type == "libcamera") out << YAML::Key << "camera" << YAML::Value << source.camera;
  if (source.type == "srt") out << YAML::Key << "url" << YAML::Value << source.url.redacted();
  if (source.type == "test") {
    out << YAML::Key << "pattern" << YAML::Value << source.pattern;
    out << YAML::Key << "stamp" << YAML::Value << source.stamp;
  }
  out << YAML::Key << "label" << YAML::Value << source.label << YAML::EndMap;
}

void emit_sources(YAML::Emitter& out, const SourcesConfig& sources) {
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "primary" << YAML::Value;
  emit_source(out, sources.primary);
  if (sources.backup) {
    out << YAML::Key << "backup" << YAML::Value;
    emit_source(out, *sources.backup);
  }
  out << YAML::Key << "slate" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "image" << YAML::Value << sources.slate.image;
  out << YAML::Key << "text" << YAML::Value << sources.slate.text << YAML::EndMap;
  out << YAML::EndMap;
}

void emit_uplink(YAML::Emitter& out, const UplinkConfig& uplink) {
  out << YAML::Key << "uplink" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "destinations" << YAML::Value << YAML::BeginSeq;
  for (const Destination& destination : uplink.destinations) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << destination.name;
    out << YAML::Key << "url" << YAML::Value << destination.url.redacted() << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "peer_idle_timeout_ms" << YAML::Value << uplink.peer_idle_timeout_ms;
  out << YAML::Key << "queue_ms" << YAML::Value << uplink.queue_ms;
  out << YAML::Key << "reconnect_min_ms" << YAML::Value << uplink.reconnect_min_ms;
  out << YAML::Key << "reconnect_max_ms" << YAML::Value << uplink.reconnect_max_ms;
  out << YAML::Key << "recovery_keyframes" << YAML::Value << uplink.recovery_keyframes;
  out << YAML::EndMap;
}

}  // namespace

std::string dump_redacted(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "video" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "width" << YAML::Value << config.video.width;
  out << YAML::Key << "height" << YAML::Value << config.video.height;
  out << YAML::Key << "framerate" << YAML::Value << config.video.framerate << YAML::EndMap;
  out << YAML::Key << "audio" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << config.audio.enabled;
  out << YAML::Key << "bitrate_kbps" << YAML::Value << config.audio.bitrate_kbps << YAML::EndMap;
  emit_sources(out, config.sources);
  out << YAML::Key << "failover" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "detect_timeout_ms" << YAML::Value << config.failover.detect_timeout_ms;
  out << YAML::Key << "failback_hold_ms" << YAML::Value << config.failover.failback_hold_ms;
  out << YAML::EndMap;
  out << YAML::Key << "encoder" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << config.encoder.type;
  out << YAML::Key << "bitrate_kbps" << YAML::Value << config.encoder.bitrate_kbps;
  out << YAML::Key << "bitrate_min_kbps" << YAML::Value << config.encoder.bitrate_min_kbps;
  out << YAML::Key << "keyframe_interval_s" << YAML::Value
      << number_text(config.encoder.keyframe_interval_s);
  out << YAML::Key << "abr" << YAML::Value << config.encoder.abr;
  out << YAML::Key << "abr_policy" << YAML::Value << config.encoder.abr_policy << YAML::EndMap;
  emit_uplink(out, config.uplink);
  out << YAML::Key << "display" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "sink" << YAML::Value << config.display.sink << YAML::EndMap;
  out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << config.control.listen;
  out << YAML::Key << "token" << YAML::Value
      << std::string(config.control.token.empty() ? "" : kRedacted);
  if (!config.control.read_token.empty())
    out << YAML::Key << "read_token" << YAML::Value << std::string(kRedacted);
  out << YAML::Key << "public_health" << YAML::Value << config.control.public_health;
  if (!config.control.tls_cert.empty()) {
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cert" << YAML::Value << config.control.tls_cert;
    out << YAML::Key << "key" << YAML::Value << config.control.tls_key << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "stream" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "autostart" << YAML::Value << config.stream.autostart << YAML::EndMap;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << config.log.level << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace onair::config
