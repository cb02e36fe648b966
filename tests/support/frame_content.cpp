#include "support/frame_content.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "media/libav.hpp"

namespace onair::test {
namespace {

using namespace onair::media::av;

struct MemoryReader {
  const std::vector<uint8_t>* bytes;
  std::size_t at = 0;
  static int read(void* opaque, uint8_t* buf, int size) {
    auto* r = static_cast<MemoryReader*>(opaque);
    const std::size_t left = r->bytes->size() - r->at;
    if (left == 0) return AVERROR_EOF;
    const std::size_t n = std::min<std::size_t>(left, static_cast<std::size_t>(size));
    std::memcpy(buf, r->bytes->data() + r->at, n);
    r->at += n;
    return static_cast<int>(n);
  }
};

// Mean of the central half (both ways) of one plane: letterbox bars stay out of it.
double plane_mean(const AVFrame* f, int plane, int width, int height) {
  const int x0 = width / 4, x1 = width * 3 / 4, y0 = height / 4, y1 = height * 3 / 4;
  double sum = 0;
  std::size_t n = 0;
  for (int y = y0; y < y1; y += 2) {
    const uint8_t* row = f->data[plane] + static_cast<std::ptrdiff_t>(y) * f->linesize[plane];
    for (int x = x0; x < x1; x += 2, ++n) sum += row[x];
  }
  return n ? sum / double(n) : 0;
}

}  // namespace

const char* to_string(Look look) {
  switch (look) {
    case Look::primary: return "primary";
    case Look::backup: return "backup";
    case Look::slate: return "slate";
    case Look::unknown: return "unknown";
  }
  return "?";
}

Look classify(double y, double u, double v) {
  if (u - v > 40) return Look::primary;        // blue: U high, V low
  if (v - u > 40) return Look::backup;         // red: V high, U low
  if (std::abs(u - v) < 30 && y < 110) return Look::slate;  // dark navy card, white text
  return Look::unknown;
}

std::vector<FrameSample> decode_frame_samples(const std::vector<uint8_t>& ts, std::string* error,
                                              const std::function<int64_t(std::size_t)>& arrival_us) {
  std::vector<FrameSample> out;
  MemoryReader reader{&ts};
  auto* buffer = static_cast<uint8_t*>(av_malloc(64 * 1024));
  IoPtr io(
      avio_alloc_context(buffer, 64 * 1024, 0, &reader, &MemoryReader::read, nullptr, nullptr));
  AVFormatContext* raw = avformat_alloc_context();
  raw->pb = io.get();
  if (avformat_open_input(&raw, nullptr, av_find_input_format("mpegts"), nullptr) < 0) {
    *error = "cannot open the capture as MPEG-TS";
    return out;
  }
  FormatPtr format(raw);
  avformat_find_stream_info(format.get(), nullptr);
  const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) {
    *error = "no video stream in the capture";
    return out;
  }
  const AVStream* stream = format->streams[video];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  CodecPtr ctx(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(ctx.get(), stream->codecpar);
  ctx->thread_count = 1;  // one frame out per packet in: pts ↔ byte offset stays simple
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) {
    *error = "cannot open the video decoder";
    return out;
  }
  const double tb = av_q2d(stream->time_base);
  std::map<int64_t, int64_t> pos_by_pts;
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  bool started = false;
  auto drain = [&] {
    while (avcodec_receive_frame(ctx.get(), frame.get()) == 0) {
      FrameSample s;
      const int64_t pts = frame->best_effort_timestamp;
      s.pts_s = pts * tb;
      s.key = frame->key_frame;
      s.y = plane_mean(frame.get(), 0, frame->width, frame->height);
      s.u = plane_mean(frame.get(), 1, frame->width / 2, frame->height / 2);
      s.v = plane_mean(frame.get(), 2, frame->width / 2, frame->height / 2);
      s.look = classify(s.y, s.u, s.v);
      if (auto it = pos_by_pts.find(pts); it != pos_by_pts.end()) {
        s.pos = it->second;
        if (arrival_us) s.arrival_us = arrival_us(static_cast<std::size_t>(s.pos));
        pos_by_pts.erase(pos_by_pts.begin(), std::next(it));
      }
      out.push_back(s);
    }
  };
  while (av_read_frame(format.get(), packet.get()) >= 0) {
    if (packet->stream_index == video && (started || (packet->flags & AV_PKT_FLAG_KEY))) {
      started = true;
      pos_by_pts[packet->pts] = packet->pos;
      if (avcodec_send_packet(ctx.get(), packet.get()) == 0) drain();
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(ctx.get(), nullptr);
  drain();
  if (out.empty()) *error = "no decodable video frame in the capture";
  return out;
}

std::vector<Switch> find_switches(const std::vector<FrameSample>& frames, std::size_t min_run) {
  // Runs of one look; short runs and unknown frames are skipped over.
  struct Run {
    Look look;
    std::size_t first, last;
  };
  std::vector<Run> runs;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!runs.empty() && runs.back().look == frames[i].look && runs.back().last + 1 == i) runs.back().last = i;
    else runs.push_back({frames[i].look, i, i});
  }
  std::vector<Run> solid;
  for (const auto& r : runs)
    if (r.look != Look::unknown && r.last - r.first + 1 >= min_run) {
      if (!solid.empty() && solid.back().look == r.look) solid.back().last = r.last;
      else solid.push_back(r);
    }
  std::vector<Switch> out;
  for (std::size_t i = 1; i < solid.size(); ++i) {
    const FrameSample& last = frames[solid[i - 1].last];
    // The first frame of the new source may be the mixed one the cut produced: start there.
    std::size_t first = solid[i - 1].last + 1;
    const FrameSample& next = frames[first];
    Switch s{solid[i - 1].look, solid[i].look, first, (next.pts_s - last.pts_s) * 1000, -1, next.key};
    if (last.arrival_us >= 0 && next.arrival_us >= 0) s.arrival_gap_ms = double(next.arrival_us - last.arrival_us) / 1000;
    out.push_back(s);
  }
  return out;
}

int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ArrivalLog::ArrivalLog(std::function<std::size_t()> byte_count) : byte_count_(std::move(byte_count)) {
  thread_ = std::thread([this] {
    std::size_t seen = 0;
    while (!stop_) {
      const std::size_t count = byte_count_();
      if (count != seen) {
        seen = count;
        std::lock_guard lock(mutex_);
        marks_.push_back({count, steady_now_us()});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
}

ArrivalLog::~ArrivalLog() {
  stop_ = true;
  thread_.join();
}

int64_t ArrivalLog::arrival_us(std::size_t offset) const {
  std::lock_guard lock(mutex_);
  auto it = std::upper_bound(marks_.begin(), marks_.end(), offset,
                             [](std::size_t o, const Mark& m) { return o < m.count; });
  return it == marks_.end() ? -1 : it->at_us;
}

}  // namespace onair::test
