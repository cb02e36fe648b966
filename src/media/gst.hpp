// Thin RAII fronts for GStreamer/GLib handles, and the one-time library init.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

namespace onair::media {

struct GstObjectDeleter {
  void operator()(gpointer object) const {
    if (object) gst_object_unref(object);
  }
};
struct GstMiniObjectDeleter {
  void operator()(GstMiniObject* object) const {
    if (object) gst_mini_object_unref(object);
  }
  void operator()(GstSample* s) const { operator()(GST_MINI_OBJECT_CAST(s)); }
  void operator()(GstBuffer* b) const { operator()(GST_MINI_OBJECT_CAST(b)); }
  void operator()(GstCaps* c) const { operator()(GST_MINI_OBJECT_CAST(c)); }
  void operator()(GstMessage* m) const { operator()(GST_MINI_OBJECT_CAST(m)); }
};
struct GErrorDeleter {
  void operator()(GError* e) const {
    if (e) g_error_free(e);
  }
};
struct GFreeDeleter {
  void operator()(gpointer p) const { g_free(p); }
};

template <typename T>
using GstPtr = std::unique_ptr<T, GstObjectDeleter>;
using ElementPtr = GstPtr<GstElement>;
using PadPtr = GstPtr<GstPad>;
using BusPtr = GstPtr<GstBus>;
using SamplePtr = std::unique_ptr<GstSample, GstMiniObjectDeleter>;
using BufferPtr = std::unique_ptr<GstBuffer, GstMiniObjectDeleter>;
using CapsPtr = std::unique_ptr<GstCaps, GstMiniObjectDeleter>;
using MessagePtr = std::unique_ptr<GstMessage, GstMiniObjectDeleter>;
using GErrorPtr = std::unique_ptr<GError, GErrorDeleter>;
using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;

// Takes ownership of a floating element reference (gst_parse_launch, factory_make).
inline ElementPtr adopt_floating(GstElement* element) {
  if (element && g_object_is_floating(element)) gst_object_ref_sink(element);
  return ElementPtr(element);
}

// Looks a child element up by name in a bin; empty when absent.
ElementPtr child(GstElement* bin, const char* name);

// True when an element factory of this name is registered (plugin installed, device present).
bool element_exists(const std::string& factory);

// gst_init once per process; safe to call from several places.
void init_gstreamer();

// Builds a pipeline from launch syntax. Throws std::runtime_error naming `what` and the parser
// message on a syntax error or a missing element.
ElementPtr parse_pipeline(const std::string& description, const std::string& what);

// Every onair pipeline runs on the monotonic system clock, so timestamps map across pipelines.
void use_system_clock(GstElement* pipeline);
// The current time on that clock, in ns.
GstClockTime system_clock_now();

std::string caps_to_string(const GstCaps* caps);

// Wall clock in microseconds since the Unix epoch (capture stamps).
int64_t wall_clock_us();
// Monotonic clock in microseconds (frame-arrival health; never jumps with NTP).
int64_t monotonic_us();

// " (install <package>)" for elements Debian ships in a package onair does not pull in by
// default, else "".
std::string package_hint(const std::string& element);

}  // namespace onair::media
