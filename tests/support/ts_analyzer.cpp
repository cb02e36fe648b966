#include "support/ts_analyzer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>

#include "media/libav.hpp"

namespace onair::test {
namespace {

using namespace onair::media::av;

constexpr std::size_t kMaxLogMessages = 20;
constexpr int kIoBufferSize = 64 * 1024;

// libav logging is process-global: each analysis collects the lines of its own thread.
struct LogCollector {
  bool counting = false;  // off until the start point (see TsReport)
  TsReport* report = nullptr;
};
thread_local LogCollector* t_collector = nullptr;

void log_callback(void* avcl, int level, const char* fmt, va_list args) {
  LogCollector* c = t_collector;
  if (!c) return;  // other libav users in a test process stay quiet
  if (level > AV_LOG_ERROR || !c->counting) return;
  char line[512];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &print_prefix);
  ++c->report->log_errors;
  if (c->report->log_messages.size() < kMaxLogMessages) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    c->report->log_messages.push_back(std::move(text));
  }
}

class ScopedLogCapture {
 public:
  explicit ScopedLogCapture(LogCollector& c) : previous_(t_collector) {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(&log_callback); });
    t_collector = &c;
  }
  ~ScopedLogCapture() { t_collector = previous_; }
  ScopedLogCapture(const ScopedLogCapture&) = delete;
  ScopedLogCapture& operator=(const ScopedLogCapture&) = delete;

 private:
  LogCollector* previous_;
};

// The custom AVIOContext reads from this.
struct MemoryReader {
  const std::vector<uint8_t>* data;
  std::size_t pos = 0;
};

int read_memory(void* opaque, uint8_t* buf, int size) {
  auto* r = static_cast<MemoryReader*>(opaque);
  const std::size_t left = r->data->size() - r->pos;
  if (left == 0) return AVERROR_EOF;
  const std::size_t n = std::min(left, static_cast<std::size_t>(size));
  std::memcpy(buf, r->data->data() + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

std::vector<double> deltas(const std::vector<double>& v) {
  std::vector<double> d;
  for (std::size_t i = 1; i < v.size(); ++i) d.push_back(v[i] - v[i - 1]);
  return d;
}

// One decoded elementary stream (the first video and the first audio stream seen).
struct Decoder {
  CodecPtr ctx;
  AVRational time_base{1, 90000};
  bool video = false;
};

class Analysis {
 public:
  Analysis(AVFormatContext* fmt, TsReport& report, LogCollector& log)
      : fmt_(fmt), r_(report), log_(log) {}

  void run() {
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
      if (fmt_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) has_video_stream_ = true;
    }
    started_ = !has_video_stream_;  // audio-only input: nothing to wait for
    log_.counting = started_;
    PacketPtr pkt(av_packet_alloc());
    // Each av_read_frame consumes input, so this ends; the cap only guards against a libav bug.
    const std::size_t max_reads = r_.ts_packets * 4 + 1000;
    for (std::size_t i = 0; i < max_reads && av_read_frame(fmt_, pkt.get()) >= 0; ++i) {
      on_packet(pkt.get());
      av_packet_unref(pkt.get());
    }
    for (Decoder* d : {video_.get(), audio_.get()}) {
      if (d) decode(*d, nullptr);  // flush
    }
    finish();
  }

 private:
  Decoder* decoder_for(int index) {
    AVStream* st = fmt_->streams[index];
    const bool is_video = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
    if (!is_video && st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) return nullptr;
    auto& slot = is_video ? video_ : audio_;
    int& slot_index = is_video ? video_index_ : audio_index_;
    if (slot) return slot_index == index ? slot.get() : nullptr;
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) return nullptr;
    auto d = std::make_unique<Decoder>();
    d->ctx.reset(avcodec_alloc_context3(codec));
    d->ctx->thread_count = 1;  // frames out in step with packets in; these captures are small
    if (avcodec_parameters_to_context(d->ctx.get(), st->codecpar) < 0 ||
        avcodec_open2(d->ctx.get(), codec, nullptr) < 0) {
      return nullptr;
    }
    d->time_base = st->time_base;
    d->video = is_video;
    (is_video ? r_.video_codec : r_.audio_codec) = codec->name;
    slot = std::move(d);
    slot_index = index;
    return slot.get();
  }

  void on_packet(const AVPacket* pkt) {
    Decoder* d = decoder_for(pkt->stream_index);
    if (!d) return;
    if (d->video) {
      ++r_.video_packets;
      if (!started_ && (pkt->flags & AV_PKT_FLAG_KEY)) started_ = log_.counting = true;
      if (!started_) {
        ++r_.video_packets_skipped;
        return;
      }
    } else {
      ++r_.audio_packets;
      if (!started_) return;
    }
    decode(*d, pkt);
  }

  void decode(Decoder& d, const AVPacket* pkt) {
    std::size_t& errors = d.video ? r_.video_decode_errors : r_.audio_decode_errors;
    if (pkt && (pkt->flags & AV_PKT_FLAG_CORRUPT)) ++r_.corrupt_packets;
    int ret = avcodec_send_packet(d.ctx.get(), pkt);
    if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) ++errors;
    FramePtr frame(av_frame_alloc());
    // A packet yields a handful of frames at most; the flush drains the decoder's delay.
    for (int i = 0; i < 256; ++i) {
      ret = avcodec_receive_frame(d.ctx.get(), frame.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) break;
      if (ret < 0) {
        ++errors;
        break;
      }
      if (frame->decode_error_flags != 0 || (frame->flags & AV_FRAME_FLAG_CORRUPT)) ++errors;
      if (d.video) {
        on_video_frame(d, frame.get());
      } else {
        on_audio_frame(frame.get());
      }
      av_frame_unref(frame.get());
    }
  }

  void on_video_frame(const Decoder& d, const AVFrame* f) {
    ++r_.video_frames;
    if (r_.width == 0) {
      r_.width = f->width;
      r_.height = f->height;
      const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format));
      r_.pix_fmt = pix ? pix : "";
      const char* profile = avcodec_profile_name(d.ctx->codec_id, d.ctx->profile);
      r_.video_profile = profile ? profile : "";
    }
    FrameInfo info;
    const int64_t ts =
        f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    info.pts_s = ts == AV_NOPTS_VALUE ? 0 : static_cast<double>(ts) * av_q2d(d.time_base);
    info.key = f->key_frame != 0;
    info.pict_type = av_get_picture_type_char(f->pict_type);
    for (int i = 0; i < f->nb_side_data; ++i) {
      const AVFrameSideData* sd = f->side_data[i];
      if (sd->type == AV_FRAME_DATA_SEI_UNREGISTERED)
        info.sei_unregistered.emplace_back(sd->data, sd->data + sd->size);
    }
    if (!r_.frames.empty() && info.pts_s <= r_.frames.back().pts_s) r_.pts_monotonic = false;
    if (info.key) r_.keyframe_pts_s.push_back(info.pts_s);
    r_.frames.push_back(std::move(info));
  }

  void on_audio_frame(const AVFrame* f) {
    ++r_.audio_frames;
    r_.audio_samples += static_cast<std::size_t>(f->nb_samples);
    if (r_.sample_rate == 0) {
      r_.sample_rate = f->sample_rate;
      r_.channels = f->ch_layout.nb_channels;
    }
  }

  void finish() {
    if (r_.frames.empty()) return;
    std::vector<double> pts;
    for (const auto& f : r_.frames) pts.push_back(f.pts_s);
    const double frame_interval = median(deltas(pts));
    r_.fps = frame_interval > 0 ? 1.0 / frame_interval : 0;
    r_.keyframe_interval_s = median(deltas(r_.keyframe_pts_s));
    r_.first_video_pts_s = pts.front();
    r_.last_video_pts_s = pts.back();
    r_.duration_s = pts.back() - pts.front() + std::max(frame_interval, 0.0);
  }

  AVFormatContext* fmt_;
  TsReport& r_;
  LogCollector& log_;
  std::unique_ptr<Decoder> video_;
  std::unique_ptr<Decoder> audio_;
  int video_index_ = -1;
  int audio_index_ = -1;
  bool has_video_stream_ = false;
  bool started_ = false;
};

}  // namespace

std::size_t TsReport::total_errors() const {
  return ts_sync_errors + ts_cc_errors + corrupt_packets + video_decode_errors +
         audio_decode_errors + log_errors;
}

std::string TsReport::summary() const {
  std::ostringstream s;
  if (!open_error.empty()) s << "open_error=\"" << open_error << "\" ";
  s << "video=" << video_codec << "/" << video_profile << " " << width << "x" << height << " "
    << pix_fmt << " fps=" << fps << " frames=" << video_frames
    << " skipped=" << video_packets_skipped << " keyint=" << keyframe_interval_s
    << " keyframes=" << keyframe_pts_s.size() << " monotonic=" << pts_monotonic
    << " duration=" << duration_s << " audio=" << audio_codec << " " << sample_rate << "Hz "
    << channels << "ch frames=" << audio_frames << " errors: video=" << video_decode_errors
    << " audio=" << audio_decode_errors << " corrupt=" << corrupt_packets
    << " sync=" << ts_sync_errors << " cc=" << ts_cc_errors << " log=" << log_errors
    << " ts_packets=" << ts_packets;
  for (const auto& m : log_messages) s << " | " << m;
  return s.str();
}

TsReport analyze_ts(const std::vector<uint8_t>& capture) {
  TsReport report;
  const TsPacketStats stats = scan_ts_packets(capture);
  report.ts_packets = stats.packets;
  report.ts_sync_errors = stats.sync_errors;
  report.ts_cc_errors = stats.cc_errors;
  const std::vector<uint8_t> ts = drop_unfinished_pes(capture, report.tail_packets_dropped);
  LogCollector log{false, &report};
  ScopedLogCapture log_capture(log);

  MemoryReader reader{&ts};
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  if (!buffer) {
    report.open_error = "out of memory";
    return report;
  }
  IoPtr io(avio_alloc_context(buffer, kIoBufferSize, 0, &reader, &read_memory, nullptr, nullptr));
  if (!io) {
    av_free(buffer);
    report.open_error = "out of memory";
    return report;
  }
  io->seekable = 0;
  AVFormatContext* raw = avformat_alloc_context();
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  int ret = avformat_open_input(&raw, nullptr, av_find_input_format("mpegts"), nullptr);
  if (ret < 0) {  // avformat_open_input has freed raw
    char err[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(ret, err, sizeof err);
    report.open_error = err;
    return report;
  }
  FormatPtr fmt(raw);
  avformat_find_stream_info(fmt.get(),
                            nullptr);  // failing leaves streams to be found while reading
  Analysis(fmt.get(), report, log).run();
  return report;
}

TsReport analyze_ts_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    TsReport report;
    report.open_error = "cannot read " + path.string();
    return report;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return analyze_ts(bytes);
}

}  // namespace onair::test
