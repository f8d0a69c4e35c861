#include "qwen3vl/video/video_encode.h"

#include <algorithm>
#include <cmath>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "qwen3vl/base/error.h"
#include "qwen3vl/video/ffmpeg_log.h"

namespace qwen3vl {

namespace {

struct OutputFile {
  AVFormatContext* fmt = nullptr;
  AVCodecContext* enc = nullptr;
  AVFrame* yuv = nullptr;
  AVPacket* pkt = nullptr;
  SwsContext* sws = nullptr;
  bool header_written = false;

  ~OutputFile() {
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&yuv);
    avcodec_free_context(&enc);
    if (fmt) {
      if (fmt->pb && !(fmt->oformat->flags & AVFMT_NOFILE)) avio_closep(&fmt->pb);
      avformat_free_context(fmt);
    }
  }
};

}  // namespace

std::string write_video_file(const std::string& path, int width, int height, int num_frames,
                             const std::function<RgbImage(int)>& frame, const VideoEncodeOptions& options) {
  ffmpeg::quiet_log();
  auto fail = [&](const std::string& what, int code) {
    throw Error(path + ": " + what + (code < 0 ? " (" + ffmpeg::error_text(code) + ")" : ""));
  };
  if (width <= 0 || height <= 0 || num_frames < 0 || options.fps <= 0) fail("invalid video size or rate", 0);
  const AVCodec* codec = nullptr;
  for (const std::string& name : options.codecs)
    if ((codec = avcodec_find_encoder_by_name(name.c_str()))) break;
  if (!codec) fail("none of the requested encoders is available in this FFmpeg", 0);

  OutputFile out;
  int rc = avformat_alloc_output_context2(&out.fmt, nullptr, nullptr, path.c_str());
  if (rc < 0 || !out.fmt) fail("unknown container for this file name", rc);
  AVStream* stream = avformat_new_stream(out.fmt, nullptr);
  out.enc = avcodec_alloc_context3(codec);
  if (!stream || !out.enc) fail("out of memory", 0);

  // The encoder's preferred pixel format: RGB for lossless RGB codecs, YUV 4:2:0 otherwise.
  AVPixelFormat pix = AV_PIX_FMT_YUV420P;
  if (codec->pix_fmts) {
    pix = codec->pix_fmts[0];
    for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
      if (*p == AV_PIX_FMT_RGB24 || *p == AV_PIX_FMT_YUV420P) {
        pix = *p;
        break;
      }
  }
  out.enc->width = width;
  out.enc->height = height;
  out.enc->pix_fmt = pix;
  out.enc->time_base = AVRational{1, options.fps};
  out.enc->framerate = AVRational{options.fps, 1};
  if (options.keyframe_interval > 0) out.enc->gop_size = options.keyframe_interval;
  if (options.bit_rate > 0) out.enc->bit_rate = options.bit_rate;
  out.enc->thread_count = 1;
  if (out.fmt->oformat->flags & AVFMT_GLOBALHEADER) out.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (std::string(codec->name) == "libx264") av_opt_set(out.enc->priv_data, "preset", "veryfast", 0);
  rc = avcodec_open2(out.enc, codec, nullptr);
  if (rc < 0) fail(std::string("cannot open the ") + codec->name + " encoder", rc);
  rc = avcodec_parameters_from_context(stream->codecpar, out.enc);
  if (rc < 0) fail("cannot set the stream parameters", rc);
  stream->time_base = out.enc->time_base;
  stream->avg_frame_rate = out.enc->framerate;

  if (!(out.fmt->oformat->flags & AVFMT_NOFILE)) {
    rc = avio_open(&out.fmt->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (rc < 0) fail("cannot create the file", rc);
  }
  rc = avformat_write_header(out.fmt, nullptr);
  if (rc < 0) fail("cannot write the container header", rc);

  out.yuv = av_frame_alloc();
  out.pkt = av_packet_alloc();
  if (!out.yuv || !out.pkt) fail("out of memory", 0);
  out.yuv->format = pix;
  out.yuv->width = width;
  out.yuv->height = height;
  rc = av_frame_get_buffer(out.yuv, 0);
  if (rc < 0) fail("out of memory for a frame", rc);
  out.sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, pix, SWS_BICUBIC, nullptr, nullptr, nullptr);
  if (!out.sws) fail("cannot convert RGB to the encoder's pixel format", 0);

  auto drain = [&](const AVFrame* f) {
    int r = avcodec_send_frame(out.enc, f);
    if (r < 0) fail("encoding failed", r);
    for (;;) {
      r = avcodec_receive_packet(out.enc, out.pkt);
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) fail("encoding failed", r);
      av_packet_rescale_ts(out.pkt, out.enc->time_base, stream->time_base);
      out.pkt->stream_index = stream->index;
      r = av_interleaved_write_frame(out.fmt, out.pkt);
      if (r < 0) fail("writing a packet failed", r);
    }
  };
  for (int i = 0; i < num_frames; ++i) {
    const RgbImage rgb = frame(i);
    if (rgb.width != width || rgb.height != height) fail("frame " + std::to_string(i) + " has the wrong size", 0);
    rc = av_frame_make_writable(out.yuv);
    if (rc < 0) fail("out of memory for a frame", rc);
    const uint8_t* src[4] = {rgb.pixels.data(), nullptr, nullptr, nullptr};
    const int src_stride[4] = {3 * width, 0, 0, 0};
    sws_scale(out.sws, src, src_stride, 0, height, out.yuv->data, out.yuv->linesize);
    out.yuv->pts = i;
    drain(out.yuv);
  }
  drain(nullptr);
  rc = av_write_trailer(out.fmt);
  if (rc < 0) fail("cannot finish the file", rc);
  return codec->name;
}

RgbImage synthetic_video_frame(int width, int height, int index, int fps) {
  RgbImage img(width, height);
  const double t = static_cast<double>(index) / fps;
  // A ball moving along a circle and a square sliding across.
  const double bx = width * (0.5 + 0.3 * std::cos(t)), by = height * (0.5 + 0.3 * std::sin(t));
  const double radius = 0.12 * std::min(width, height);
  const int sq = std::max(4, std::min(width, height) / 6);
  const int sx = static_cast<int>(std::fmod(t * width / 4, std::max(1, width - sq)));
  const int sy = height / 5;
  for (int y = 0; y < height; ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < width; ++x) {
      uint8_t r = static_cast<uint8_t>(40 + 150 * x / std::max(1, width));
      uint8_t g = static_cast<uint8_t>(60 + 120 * y / std::max(1, height));
      uint8_t b = static_cast<uint8_t>(((x / 8 + y / 8) % 2) ? 90 : 130);  // checker texture
      const double dx = x - bx, dy = y - by;
      if (dx * dx + dy * dy < radius * radius) r = 230, g = 40, b = 40;
      if (x >= sx && x < sx + sq && y >= sy && y < sy + sq) r = 30, g = 60, b = 220;
      row[3 * x] = r;
      row[3 * x + 1] = g;
      row[3 * x + 2] = b;
    }
  }
  return img;
}

}  // namespace qwen3vl
