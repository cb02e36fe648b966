#include "receiver.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

#include <chrono>
#include <cmath>
#include <memory>

#include "media/frame_stamp.hpp"
#include "media/libav.hpp"
#include "program/sei.hpp"

namespace onair::probe {
namespace {

using namespace media::av;

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

std::string seconds_text(double s) {
  const double rounded = std::round(s * 10) / 10;
  std::string t = std::to_string(rounded);
  t.erase(t.find_last_not_of('0') + 1);
  if (!t.empty() && t.back() == '.') t.pop_back();
  return t;
}

// What libavformat's interrupt callback decides on: stop, the duration, silence.
struct Watch {
  const std::atomic<bool>* stop = nullptr;
  int64_t start_us = 0;
  int64_t timeout_us = 0;
  int64_t last_data_us = 0;  // 0 until connected
  int64_t end_us = 0;        // 0 until the first frame sets the end of the measurement
  bool have_frame = false;   // a video frame was decoded
  std::string reason;
};

int interrupt(void* opaque) {
  auto* w = static_cast<Watch*>(opaque);
  const int64_t now = now_us();
  if (w->stop && w->stop->load())
    w->reason = "interrupted";
  else if (w->end_us && now >= w->end_us)
    w->reason = "duration";
  else if (!w->last_data_us && now - w->start_us > w->timeout_us)
    w->reason = "no connection within " + seconds_text(double(w->timeout_us) / 1e6) + " s";
  else if (w->last_data_us && now - w->last_data_us > w->timeout_us)
    w->reason = "no data for " + seconds_text(double(w->timeout_us) / 1e6) + " s";
  else if (w->last_data_us && !w->have_frame && now - w->start_us > 2 * w->timeout_us)
    w->reason = "no video frame within " + seconds_text(2 * double(w->timeout_us) / 1e6) + " s";
  return w->reason.empty() ? 0 : 1;
}

// The libavformat URL and protocol options for an onair-style SRT URL (latency ms → µs).
std::string srt_input(const config::SrtUrl& u, const Options& o, AVDictionary** dict) {
  const bool v6 = u.host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + u.host + "]" : u.host;
  av_dict_set(dict, "mode", std::string(config::to_string(u.mode)).c_str(), 0);
  av_dict_set_int(dict, "latency", int64_t(u.latency_ms) * 1000, 0);
  if (!u.passphrase.empty()) av_dict_set(dict, "passphrase", u.passphrase.c_str(), 0);
  if (u.pbkeylen) av_dict_set_int(dict, "pbkeylen", u.pbkeylen, 0);
  if (!u.streamid.empty()) av_dict_set(dict, "streamid", u.streamid.c_str(), 0);
  av_dict_set_int(dict, "connect_timeout", int64_t(o.timeout_s * 1000), 0);
  return "srt://" + host + ":" + std::to_string(u.port);
}

// Without libavformat's parser packets carry no reliable key flag: an H.264 IDR slice says it.
bool has_idr(AVCodecID codec, const uint8_t* data, int size) {
  if (codec != AV_CODEC_ID_H264) return true;  // other codecs: start at once, errors until a keyframe
  for (int i = 0; i + 3 < size; ++i)
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 5) return true;
  return false;
}

// The capture stamp drawn in the picture (media/frame_stamp.hpp), read off the luma plane of
// any 8-bit YUV picture; nullopt when the frame has none or is not YUV.
std::optional<int64_t> drawn_stamp(const AVFrame& frame) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_HWACCEL)) || desc->nb_components < 1)
    return std::nullopt;
  const AVComponentDescriptor& luma = desc->comp[0];
  if (luma.plane != 0 || luma.step != 1 || luma.depth != 8 || luma.shift != 0 || frame.linesize[0] <= 0)
    return std::nullopt;
  return media::read_stamp(frame.data[0] + luma.offset, frame.linesize[0], frame.width, frame.height);
}

struct Decoder {
  CodecPtr ctx;
  AVRational time_base{1, 90000};
  bool video = false;
  bool started = false;  // video: from the first keyframe on (a stream is joined mid-GOP)
};

class Session {
 public:
  Session(const Options& o, Capture& c) : options_(o), capture_(c) {}

  void decode(AVFormatContext* format, AVPacket* packet, Watch& watch) {
    if (packet->flags & AV_PKT_FLAG_CORRUPT) ++capture_.corrupt_packets;
    Decoder* d = decoder_for(format, packet->stream_index);
    if (!d) return;
    if (d->video && !d->started) {
      if (!(packet->flags & AV_PKT_FLAG_KEY) && !has_idr(d->ctx->codec_id, packet->data, packet->size)) return;
      d->started = true;
    }
    if (avcodec_send_packet(d->ctx.get(), packet) < 0) {
      ++(d->video ? capture_.video_decode_errors : capture_.audio_decode_errors);
      return;
    }
    while (true) {
      const int ret = avcodec_receive_frame(d->ctx.get(), frame_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) break;
      if (ret < 0) {
        ++(d->video ? capture_.video_decode_errors : capture_.audio_decode_errors);
        break;
      }
      if (frame_->decode_error_flags || (frame_->flags & AV_FRAME_FLAG_CORRUPT))
        ++(d->video ? capture_.video_decode_errors : capture_.audio_decode_errors);
      if (d->video)
        video_frame(*d, watch);
      else
        audio_frame(*d);
      av_frame_unref(frame_.get());
    }
  }

 private:
  Decoder* decoder_for(AVFormatContext* format, int index) {
    if (index == video_index_) return &video_;
    if (index == audio_index_) return &audio_;
    const AVStream* stream = format->streams[index];
    const AVMediaType type = stream->codecpar->codec_type;
    const bool video = type == AVMEDIA_TYPE_VIDEO && video_index_ < 0;
    const bool audio = type == AVMEDIA_TYPE_AUDIO && audio_index_ < 0;
    if (!video && !audio) return nullptr;
    const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!codec) return nullptr;
    Decoder& d = video ? video_ : audio_;
    d.ctx.reset(avcodec_alloc_context3(codec));
    avcodec_parameters_to_context(d.ctx.get(), stream->codecpar);
    // Frame threading holds frames back (one per thread): slices only, and no reordering delay.
    d.ctx->thread_type = FF_THREAD_SLICE;
    d.ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if (avcodec_open2(d.ctx.get(), codec, nullptr) < 0) {
      d.ctx.reset();
      return nullptr;
    }
    d.time_base = stream->time_base;
    d.video = video;
    (video ? video_index_ : audio_index_) = index;
    if (audio) capture_.audio_codec = avcodec_get_name(stream->codecpar->codec_id);
    return &d;
  }

  void video_frame(const Decoder& d, Watch& watch) {
    FrameRecord r;
    r.decoded_us = now_us();
    const int64_t ts = frame_->best_effort_timestamp;
    r.pts_s = ts == AV_NOPTS_VALUE ? 0 : double(ts) * av_q2d(d.time_base);
    r.key = frame_->key_frame;
    for (int i = 0; i < frame_->nb_side_data; ++i) {
      const AVFrameSideData* sd = frame_->side_data[i];
      if (sd->type != AV_FRAME_DATA_SEI_UNREGISTERED) continue;
      if (auto us = program::sei::parse_stamp(sd->data, sd->size)) r.capture_us = us;
    }
    r.drawn_us = drawn_stamp(*frame_);
    watch.have_frame = true;
    if (capture_.frames.empty()) {
      capture_.video_codec = avcodec_get_name(d.ctx->codec_id);
      const char* profile = avcodec_profile_name(d.ctx->codec_id, d.ctx->profile);
      capture_.video_profile = profile ? profile : "";
      const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format));
      capture_.pix_fmt = pix ? pix : "";
      capture_.width = frame_->width;
      capture_.height = frame_->height;
      if (options_.duration_s > 0)
        watch.end_us = r.decoded_us + int64_t((options_.warmup_s + options_.duration_s) * 1e6);
    }
    capture_.frames.push_back(r);
  }

  void audio_frame(const Decoder& d) {
    ++capture_.audio_frames;
    capture_.sample_rate = d.ctx->sample_rate;
    capture_.channels = d.ctx->ch_layout.nb_channels;
  }

  const Options& options_;
  Capture& capture_;
  Decoder video_, audio_;
  int video_index_ = -1, audio_index_ = -1;
  FramePtr frame_{av_frame_alloc()};
};

}  // namespace

Capture receive(const Options& options, const std::atomic<bool>* stop) {
  Capture capture;
  capture.start_us = now_us();
  Watch watch;
  watch.stop = stop;
  watch.start_us = capture.start_us;
  watch.timeout_us = int64_t(options.timeout_s * 1e6);

  AVDictionary* raw_dict = nullptr;
  const bool live = options.srt || options.url.rfind("udp://", 0) == 0;
  const std::string input = options.srt ? srt_input(*options.srt, options, &raw_dict) : options.url;
  if (live) {
    // Do not wait for a PAT/PMT scan or codec probing: streams appear as their tables arrive.
    av_dict_set(&raw_dict, "probesize", "188", 0);
    // No parser: libavformat's H.264 parser hands a frame out only once the next one starts
    // (a frame interval late); a PES holds one whole access unit in the streams measured here.
    av_dict_set(&raw_dict, "fflags", "nobuffer+noparse+nofillin", 0);
  }
  DictPtr dict(raw_dict);
  AVFormatContext* raw_format = avformat_alloc_context();
  raw_format->interrupt_callback = {interrupt, &watch};
  AVDictionary* d = dict.release();
  int ret = avformat_open_input(&raw_format, input.c_str(), live ? av_find_input_format("mpegts") : nullptr, &d);
  dict.reset(d);
  FormatPtr format(ret >= 0 ? raw_format : nullptr);  // open_input frees the context on failure
  if (ret < 0) {
    capture.end_us = now_us();
    capture.error =
        "cannot open " + printable_url(options) + ": " + (watch.reason.empty() ? av_error(ret) : watch.reason);
    return capture;
  }
  capture.connected = true;
  capture.connected_us = watch.last_data_us = now_us();
  if (!live && avformat_find_stream_info(format.get(), nullptr) < 0) {
    capture.error = "cannot read the stream information of " + options.url;
    return capture;
  }

  Session session(options, capture);
  PacketPtr packet(av_packet_alloc());
  while (true) {
    ret = av_read_frame(format.get(), packet.get());
    if (ret < 0) {
      capture.ended_by = ret == AVERROR_EOF      ? "end of stream"
                         : !watch.reason.empty() ? watch.reason
                                                 : "read error: " + av_error(ret);
      break;
    }
    if (!watch.reason.empty()) {  // interrupted mid-PES: libavformat flushes it cut short
      capture.ended_by = watch.reason;
      break;
    }
    watch.last_data_us = now_us();
    session.decode(format.get(), packet.get(), watch);
    av_packet_unref(packet.get());
    if (interrupt(&watch)) {
      capture.ended_by = watch.reason;
      break;
    }
  }
  capture.end_us = now_us();
  if (format->pb) capture.bytes = static_cast<uint64_t>(format->pb->bytes_read);
  return capture;
}

}  // namespace onair::probe
