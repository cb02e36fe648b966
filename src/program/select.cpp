#include "program/select.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "media/gst.hpp"

namespace onair::program {
namespace {

std::string describe_missing(const media::Fragment& f) {
  std::string out;
  for (const auto& m : f.missing_elements()) out += (out.empty() ? "" : ", ") + m + media::package_hint(m);
  return out;
}

// Encodes a few frames through the fragment: an element can exist while its device cannot be
// opened (no VA driver, GPU busy), and only a real encode tells.
std::string try_encode(const media::Fragment& f, const ProbeFormat& format) {
  const std::string description =
      "videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=" + std::to_string(format.width) +
      ",height=" + std::to_string(format.height) + ",framerate=" + std::to_string(format.framerate) +
      "/1 ! " + render_encoder(f, 1000, format.framerate, kMaxEncoderBufferMs, format) + " ! fakesink";
  try {
    auto pipeline = media::parse_pipeline(description, "encoder probe");
    media::BusPtr bus(gst_element_get_bus(pipeline.get()));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    media::MessagePtr msg(gst_bus_timed_pop_filtered(
        bus.get(), 5 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    std::string result;
    if (!msg) {
      result = "no output within 5 s";
    } else if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      GError* raw = nullptr;
      gst_message_parse_error(msg.get(), &raw, nullptr);
      media::GErrorPtr err(raw);
      result = err->message;
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return result;
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::vector<media::Fragment> load_sorted(const std::string& dir) {
  auto fragments = media::load_fragments(dir);
  std::stable_sort(fragments.begin(), fragments.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.header("priority", "0")) > std::stoi(b.header("priority", "0"));
  });
  return fragments;
}

}  // namespace

int encoder_buffer_ms(const std::vector<int>& destination_latencies_ms) {
  if (destination_latencies_ms.empty()) return kMaxEncoderBufferMs;
  const int tightest = *std::min_element(destination_latencies_ms.begin(), destination_latencies_ms.end());
  return std::clamp(tightest / 2, kMinEncoderBufferMs, kMaxEncoderBufferMs);
}

std::string render_encoder(const media::Fragment& fragment, int bitrate_kbps, int keyint_frames, int buffer_ms,
                           const ProbeFormat& format) {
  return fragment.render("", {{"bitrate_kbps", std::to_string(bitrate_kbps)},
                              {"bitrate_bps", std::to_string(bitrate_kbps * 1000)},
                              {"keyint_frames", std::to_string(keyint_frames)},
                              {"vbv_ms", std::to_string(buffer_ms)},
                              {"framerate", std::to_string(format.framerate)},
                              {"width", std::to_string(format.width)},
                              {"height", std::to_string(format.height)}});
}

std::string fixed_bitrate_reason(const media::Fragment& fragment, const ProbeFormat& format) {
  media::init_gstreamer();
  const std::string property = fragment.header("bitrate-property", "bitrate");
  const std::string base = property.substr(0, property.find('.'));
  const std::string runtime = fragment.header("bitrate-runtime", "yes");
  if (runtime != "yes" && runtime != "flags" && runtime != "no")
    throw std::runtime_error(fragment.path + ": @bitrate-runtime must be yes, flags or no, got \"" + runtime + "\"");
  auto bin = media::parse_pipeline(
      render_encoder(fragment, 1000, format.framerate, kMaxEncoderBufferMs, format) + " ! fakesink", fragment.path);
  auto venc = media::child(bin.get(), "venc");
  if (!venc) throw std::runtime_error(fragment.path + ": no element named venc");
  const GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(venc.get()), base.c_str());
  GstElementFactory* factory = gst_element_get_factory(venc.get());
  const std::string element = factory ? GST_OBJECT_NAME(factory) : "venc";
  if (!spec)
    throw std::runtime_error(fragment.path + ": @bitrate-property " + property + ": " + element + " has no property \"" +
                             base + "\"");
  if (runtime == "yes" || (runtime == "flags" && (spec->flags & GST_PARAM_MUTABLE_PLAYING))) return "";
  if (runtime == "no") return element + "'s " + base + " cannot change while it plays (@bitrate-runtime no)";
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return fmt::format("{}'s {} cannot change while it plays (GStreamer {}.{}.{})", element, base, major, minor, micro);
}

namespace {

// Why the fragment cannot encode here ("" when it can); `bitrate_fixed` gets
// fixed_bitrate_reason() for one that can.
std::string encoder_problem(const media::Fragment& f, const ProbeFormat& format, std::string& bitrate_fixed) {
  std::string problem = describe_missing(f);
  if (problem.empty()) problem = try_encode(f, format);
  if (!problem.empty()) return problem;
  try {
    bitrate_fixed = fixed_bitrate_reason(f, format);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

Choice choose_encoder(const std::string& pipelines_dir, const std::string& type, const ProbeFormat& format) {
  media::init_gstreamer();
  const auto fragments = load_sorted(pipelines_dir + "/encoders");
  Choice choice;
  std::string wanted_note;
  if (type != "auto") {
    auto it = std::find_if(fragments.begin(), fragments.end(),
                           [&](const auto& f) { return f.header("name") == type; });
    if (it == fragments.end()) throw std::runtime_error("no encoder fragment named \"" + type + "\" in " + pipelines_dir + "/encoders");
    const std::string problem = encoder_problem(*it, format, choice.bitrate_fixed);
    if (problem.empty()) {
      choice.fragment = *it;
      choice.name = type;
      choice.note = "configured (encoder.type: " + type + ")";
      return choice;
    }
    wanted_note = "encoder.type " + type + " is not usable on this box (" + problem + "); ";
    choice.unavailable.push_back(type + ": " + problem);
    spdlog::error("encoder: {}falling back to the best available encoder", wanted_note);
  }
  for (const auto& f : fragments) {
    const std::string name = f.header("name");
    if (name == type) continue;
    const std::string problem = encoder_problem(f, format, choice.bitrate_fixed);
    if (!problem.empty()) {
      choice.unavailable.push_back(name + ": " + problem);
      continue;
    }
    choice.fragment = f;
    choice.name = name;
    choice.note = wanted_note + "auto: best available (priority " + f.header("priority", "0") + ")";
    return choice;
  }
  std::string all;
  for (const auto& u : choice.unavailable) all += "\n  " + u;
  throw std::runtime_error("no H.264 encoder works on this box:" + all);
}

std::vector<std::string> encoder_names(const std::string& pipelines_dir) {
  std::vector<std::string> names;
  try {
    for (const auto& f : load_sorted(pipelines_dir + "/encoders"))
      if (!f.header("name").empty()) names.push_back(f.header("name"));
  } catch (const std::exception&) {
    names.clear();  // the shipped names then; onair itself says what is wrong with the folder
  }
  return names;
}

Choice choose_display(const std::string& pipelines_dir, const std::string& sink) {
  media::init_gstreamer();
  const auto fragments = media::load_fragments(pipelines_dir + "/displays");
  auto find = [&](const std::string& name) -> const media::Fragment* {
    for (const auto& f : fragments)
      if (f.header("name") == name) return &f;
    return nullptr;
  };
  Choice choice;
  std::vector<std::string> order;
  if (sink == "auto") {
    const bool desktop = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
    std::error_code ec;
    const bool drm = std::filesystem::exists("/dev/dri/card0", ec) || std::filesystem::exists("/dev/dri/card1", ec);
    if (desktop) order = {"gl", "x"};
    if (drm && !desktop) order.push_back("kms");
    order.push_back("none");
    choice.note = std::string("auto: ") + (desktop ? "desktop session found" : drm ? "DRM card found, no desktop" : "no display found");
  } else {
    order = {sink, "none"};
    choice.note = "configured (display.sink: " + sink + ")";
  }
  for (const auto& name : order) {
    const auto* f = find(name);
    if (!f) {
      choice.unavailable.push_back(name + ": no fragment " + pipelines_dir + "/displays/" + name + ".pipeline");
      continue;
    }
    const std::string missing = describe_missing(*f);
    if (!missing.empty()) {
      choice.unavailable.push_back(name + ": missing " + missing);
      continue;
    }
    choice.fragment = *f;
    choice.name = name;
    if (name != order.front()) {
      choice.note += "; " + order.front() + " unavailable, using " + name;
      spdlog::error("display: {} is not usable here ({}); using {}", order.front(),
                    choice.unavailable.empty() ? "?" : choice.unavailable.front(), name);
    }
    return choice;
  }
  throw std::runtime_error("no display sink available (not even fakesink)");
}

}  // namespace onair::program
