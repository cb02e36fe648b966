// `onairstamp`: a GStreamer element that writes onair's SEI capture stamp (program/sei.hpp) into
// any H.264 byte-stream, access-unit aligned. It lets scripts/bench-latency measure a plain
// gst-launch-1.0 pipeline with the same probe and the same stamp as onair:
//   GST_PLUGIN_PATH=build/gst-plugins gst-launch-1.0 ... ! x264enc ! onairstamp ! mpegtsmux ! ...
// The capture time of a frame is taken from its running time, as onair does: for a live source
// the running time of a buffer is the clock time it was captured at.
#include <gst/gst.h>

#include <chrono>
#include <cstring>

#include "program/sei.hpp"

G_BEGIN_DECLS
#define GST_TYPE_ONAIR_STAMP (gst_onair_stamp_get_type())
G_DECLARE_FINAL_TYPE(GstOnairStamp, gst_onair_stamp, GST, ONAIR_STAMP, GstElement)
G_END_DECLS

struct _GstOnairStamp {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  GstSegment segment;
};

G_DEFINE_TYPE(GstOnairStamp, gst_onair_stamp, GST_TYPE_ELEMENT)

namespace {

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-h264,stream-format=byte-stream,alignment=au"));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-h264,stream-format=byte-stream,alignment=au"));

int64_t wall_clock_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

GstFlowReturn chain(GstPad*, GstObject* parent, GstBuffer* in) {
  auto* self = GST_ONAIR_STAMP(parent);
  const GstClockTime running_time = gst_segment_to_running_time(&self->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(in));
  GstClock* clock = gst_element_get_clock(GST_ELEMENT(parent));
  if (!clock || !GST_CLOCK_TIME_IS_VALID(running_time)) {
    if (clock) gst_object_unref(clock);
    return gst_pad_push(self->srcpad, in);
  }
  const auto captured = static_cast<int64_t>(gst_element_get_base_time(GST_ELEMENT(parent)) + running_time);
  const auto age_ns = static_cast<int64_t>(gst_clock_get_time(clock)) - captured;
  gst_object_unref(clock);
  GstMapInfo map;
  if (!gst_buffer_map(in, &map, GST_MAP_READ)) return gst_pad_push(self->srcpad, in);
  const auto stamped = onair::program::sei::stamped_access_unit(map.data, map.size, wall_clock_us() - age_ns / 1000);
  gst_buffer_unmap(in, &map);
  GstBuffer* out = gst_buffer_new_allocate(nullptr, stamped.size(), nullptr);
  gst_buffer_fill(out, 0, stamped.data(), stamped.size());
  gst_buffer_copy_into(out, in, GST_BUFFER_COPY_METADATA, 0, static_cast<gsize>(-1));
  gst_buffer_unref(in);
  return gst_pad_push(self->srcpad, out);
}

gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(event, &segment);
    gst_segment_copy_into(segment, &GST_ONAIR_STAMP(parent)->segment);
  }
  return gst_pad_event_default(pad, parent, event);
}

gboolean plugin_init(GstPlugin* plugin) {
  return gst_element_register(plugin, "onairstamp", GST_RANK_NONE, GST_TYPE_ONAIR_STAMP);
}

}  // namespace

static void gst_onair_stamp_class_init(GstOnairStampClass* klass) {
  auto* element_class = GST_ELEMENT_CLASS(klass);
  gst_element_class_set_static_metadata(element_class, "onair capture stamp", "Codec/Video/Filter",
                                        "Writes onair's SEI capture-time stamp into every H.264 access unit",
                                        "onair developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
}

static void gst_onair_stamp_init(GstOnairStamp* self) {
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, chain);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
  gst_segment_init(&self->segment, GST_FORMAT_TIME);
}

#define PACKAGE "onair"  // GST_PLUGIN_DEFINE names the package through this macro
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, onairstamp, "onair's SEI capture stamp for any H.264 pipeline",
                  plugin_init, ONAIR_VERSION, "LGPL", PACKAGE, "https://github.com/onair")
