#include "media/gst.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>

namespace onair::media {

ElementPtr child(GstElement* bin, const char* name) {
  if (!bin || !GST_IS_BIN(bin)) return {};
  return ElementPtr(gst_bin_get_by_name(GST_BIN(bin), name));
}

bool element_exists(const std::string& factory) {
  init_gstreamer();
  GstPtr<GstElementFactory> f(gst_element_factory_find(factory.c_str()));
  return f != nullptr;
}

void init_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

ElementPtr parse_pipeline(const std::string& description, const std::string& what) {
  init_gstreamer();
  GError* raw_error = nullptr;
  // FATAL_ERRORS: a missing element fails instead of leaving a half-built pipeline.
  GstElement* element = gst_parse_launch_full(description.c_str(), nullptr,
                                              GST_PARSE_FLAG_FATAL_ERRORS, &raw_error);
  GErrorPtr error(raw_error);
  if (error) {
    adopt_floating(element);  // drops a half-built pipeline
    throw std::runtime_error(what + ": " + error->message);
  }
  if (!element) throw std::runtime_error(what + ": could not build the pipeline");
  return adopt_floating(element);
}

void use_system_clock(GstElement* pipeline) {
  GstPtr<GstClock> clock(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock.get());
}

GstClockTime system_clock_now() {
  static GstClock* clock = gst_system_clock_obtain();  // a process-wide singleton anyway
  return gst_clock_get_time(clock);
}

std::string caps_to_string(const GstCaps* caps) {
  if (!caps) return {};
  GCharPtr text(gst_caps_to_string(caps));
  return text ? std::string(text.get()) : std::string();
}

int64_t wall_clock_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t monotonic_us() { return g_get_monotonic_time(); }

std::string package_hint(const std::string& element) {
  static const std::map<std::string, std::string> kPackages = {
      {"libcamerasrc", "gstreamer1.0-libcamera"}, {"vaapih264enc", "gstreamer1.0-vaapi"},
      {"vaapipostproc", "gstreamer1.0-vaapi"},    {"x264enc", "gstreamer1.0-plugins-ugly"},
      {"srtsrc", "gstreamer1.0-plugins-bad"},     {"openh264enc", "gstreamer1.0-plugins-bad"},
      {"kmssink", "gstreamer1.0-plugins-bad"},    {"v4l2src", "gstreamer1.0-plugins-good"},
      {"glimagesink", "gstreamer1.0-gl"},         {"ximagesink", "gstreamer1.0-x"},
      {"vah264enc", "gstreamer1.0-plugins-bad and a VA-API driver"},
      {"nvh264enc", "gstreamer1.0-plugins-bad and the NVIDIA driver"},
      {"qsvh264enc", "gstreamer1.0-plugins-bad built with oneVPL"},
  };
  auto it = kPackages.find(element);
  return it == kPackages.end() ? "" : " (install " + it->second + ")";
}

}  // namespace onair::media
