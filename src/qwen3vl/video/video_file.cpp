// Video files through Debian's FFmpeg libraries: libavformat demuxes any
// container it knows, libavcodec decodes, libswscale converts to RGB24.
//
// Frame index k is the k-th frame the decoder outputs, as the reference's
// decoders count (PyAV / torchcodec decode from the start). To keep memory and
// time bounded by the sampled frames rather than the clip, only requested
// frames are converted to RGB, and the reader seeks ahead when the next
// requested frame lies beyond the next keyframe: after a seek the index of a
// frame is recovered from its timestamp (exact for constant-rate streams); if
// a seek lands past its target the reader rewinds and counts from the start.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/video/ffmpeg_log.h"
#include "qwen3vl/video/frame_source.h"

namespace qwen3vl {

namespace {

std::string rate_text(double fps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", fps);
  return buf;
}

class VideoFile final : public FrameSource {
 public:
  VideoFile(const std::string& path, const VideoDecodeLimits& limits) : path_(path), limits_(limits) {
    ffmpeg::quiet_log();
    if (!file_exists(path)) throw Error(path + ": video file not found");
    open_container();
    read_metadata();
  }

  // An encoded video held in memory; `name` stands for it in errors.
  VideoFile(std::vector<uint8_t> bytes, const std::string& name, const VideoDecodeLimits& limits)
      : path_(name), limits_(limits), memory_(std::move(bytes)), in_memory_(true) {
    ffmpeg::quiet_log();
    if (memory_.empty()) throw Error(name + ": empty video data");
    open_container();
    read_metadata();
  }

  ~VideoFile() override { close(); }

  const FrameSourceInfo& info() const override { return info_; }

  void read_frames(const std::vector<int64_t>& indices, const FrameCallback& on_frame) override {
    for (size_t k = 0; k < indices.size(); ++k) {
      check(indices[k] >= 0 && indices[k] < info_.total_frames,
            path_ + ": frame " + std::to_string(indices[k]) + " requested of " + std::to_string(info_.total_frames));
      check(k == 0 || indices[k] >= indices[k - 1], path_ + ": frame indices must not decrease");
    }
    if (indices.empty()) return;
    ffmpeg::quiet_log();
    Decoder d(*this);
    d.run(indices, on_frame);
  }

 private:
  // Deleters keep every FFmpeg object released on any exit path.
  struct PacketFree {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
  };
  struct FrameFree {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
  };
  struct CodecFree {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
  };
  struct SwsFree {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
  };

  // Reads from memory_ through FFmpeg's custom I/O callbacks.
  static int read_memory(void* opaque, uint8_t* buf, int size) {
    auto* self = static_cast<VideoFile*>(opaque);
    const size_t left = self->memory_.size() - self->memory_pos_;
    if (left == 0) return AVERROR_EOF;
    const size_t n = std::min(left, static_cast<size_t>(size));
    std::memcpy(buf, self->memory_.data() + self->memory_pos_, n);
    self->memory_pos_ += n;
    return static_cast<int>(n);
  }

  static int64_t seek_memory(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<VideoFile*>(opaque);
    const int64_t size = static_cast<int64_t>(self->memory_.size());
    if (whence & AVSEEK_SIZE) return size;
    int64_t target = offset;
    if ((whence & 3) == SEEK_CUR) target += static_cast<int64_t>(self->memory_pos_);
    else if ((whence & 3) == SEEK_END) target += size;
    if (target < 0 || target > size) return AVERROR(EINVAL);
    self->memory_pos_ = static_cast<size_t>(target);
    return target;
  }

  void open_container() {
    int rc;
    if (in_memory_) {
      fmt_ = avformat_alloc_context();
      constexpr int kBufferSize = 1 << 16;
      auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
      memory_pos_ = 0;
      if (fmt_ && buffer)
        io_ = avio_alloc_context(buffer, kBufferSize, 0, this, &VideoFile::read_memory, nullptr,
                                 &VideoFile::seek_memory);
      if (!fmt_ || !io_) {
        if (!io_) av_free(buffer);
        close();
        throw Error(path_ + ": out of memory for the video reader");
      }
      fmt_->pb = io_;
      fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
      rc = avformat_open_input(&fmt_, nullptr, nullptr, nullptr);  // frees fmt_ on failure
    } else {
      rc = avformat_open_input(&fmt_, path_.c_str(), nullptr, nullptr);
    }
    if (rc < 0) {
      close();
      throw Error(path_ + ": not a readable video file (" + ffmpeg::error_text(rc) + ")");
    }
    // Sizes the container header declares are checked before FFmpeg decodes
    // anything to fill in stream information.
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
      const AVCodecParameters* par = fmt_->streams[i]->codecpar;
      if (par->codec_type == AVMEDIA_TYPE_VIDEO) check_frame_size(par->width, par->height);
    }
    rc = avformat_find_stream_info(fmt_, nullptr);
    if (rc < 0) {
      const std::string why = ffmpeg::error_text(rc);
      close();
      throw Error(path_ + ": cannot read the video's stream information (" + why + ")");
    }
  }

  void close() {
    if (fmt_) avformat_close_input(&fmt_);
    if (io_) {
      av_freep(&io_->buffer);
      avio_context_free(&io_);
    }
  }

  void check_frame_size(int64_t width, int64_t height) {
    if (width * height > limits_.max_frame_pixels)
      fail("the video declares " + std::to_string(width) + "x" + std::to_string(height) +
           " frames, over the limit of " + std::to_string(limits_.max_frame_pixels) +
           " pixels per frame (refused before decoding)");
  }

  [[noreturn]] void fail(const std::string& message) {
    close();
    throw Error(path_ + ": " + message);
  }

  void read_metadata() {
    const AVCodec* decoder = nullptr;
    const int si = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (si == AVERROR_STREAM_NOT_FOUND) fail("no video stream in this file");
    if (si < 0 || !decoder) {
      // The best video stream's codec has no decoder in this FFmpeg build.
      for (unsigned i = 0; i < fmt_->nb_streams; ++i)
        if (fmt_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
          const AVCodecID id = fmt_->streams[i]->codecpar->codec_id;
          const char* name = avcodec_get_name(id);
          fail(std::string("unsupported video codec \"") + (name ? name : "unknown") + "\" (no decoder for it)");
        }
      fail("no decodable video stream (" + ffmpeg::error_text(si) + ")");
    }
    stream_index_ = si;
    decoder_ = decoder;
    stream_ = fmt_->streams[si];
    if (stream_->disposition & AV_DISPOSITION_ATTACHED_PIC) fail("the only video stream is a cover picture");
    const AVCodecParameters* par = stream_->codecpar;

    const int64_t width = par->width, height = par->height;
    if (width <= 0 || height <= 0)
      fail("the video stream declares no frame size (" + std::to_string(width) + "x" + std::to_string(height) + ")");
    check_frame_size(width, height);
    info_.width = static_cast<int>(width);
    info_.height = static_cast<int>(height);

    // The average rate, as PyAV's average_rate and torchcodec's average_fps.
    AVRational rate = stream_->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = stream_->r_frame_rate;
    if (rate.num > 0 && rate.den > 0) {
      const double fps = av_q2d(rate);
      if (!(fps > 0 && fps <= 100000)) fail("the video declares an implausible frame rate of " + rate_text(fps));
      info_.fps = fps;
    }

    int64_t frames = stream_->nb_frames;
    if (frames <= 0) frames = count_packets();  // containers without a frame count in the header
    if (frames <= 0) fail("the video has no frames");
    if (frames > limits_.max_frames)
      fail("the video declares " + std::to_string(frames) + " frames, over the limit of " +
           std::to_string(limits_.max_frames) + " (refused before decoding)");
    info_.total_frames = frames;
    info_.name = path_;
    info_.description = std::string(fmt_->iformat->name) + " / " + decoder_->name + ", " + std::to_string(width) +
                        "x" + std::to_string(height) + ", " + std::to_string(frames) + " frames" +
                        (info_.fps ? " at " + rate_text(*info_.fps) + " fps" : "");
  }

  // Demuxes (without decoding) and counts the stream's packets: one per
  // frame for the video codecs in use. Bounded by the file size.
  int64_t count_packets() {
    std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
    int64_t n = 0;
    while (av_read_frame(fmt_, pkt.get()) >= 0) {
      if (pkt->stream_index == stream_index_) ++n;
      av_packet_unref(pkt.get());
      if (n > limits_.max_frames) break;
    }
    rewind_needed_ = true;
    return n;
  }

  // Back to the first packet: a seek when the container allows it, else the
  // file is opened again.
  void rewind() {
    if (av_seek_frame(fmt_, stream_index_, start_pts(), AVSEEK_FLAG_BACKWARD) >= 0 ||
        avformat_seek_file(fmt_, stream_index_, INT64_MIN, 0, INT64_MAX, AVSEEK_FLAG_BYTE) >= 0)
      return;
    close();
    open_container();
    stream_ = fmt_->streams[stream_index_];
  }

  int64_t start_pts() const { return stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0; }

  // The decoding state of one read_frames() call.
  class Decoder {
   public:
    explicit Decoder(VideoFile& file) : f_(file) {
      ctx_.reset(avcodec_alloc_context3(f_.decoder_));
      if (!ctx_) throw Error(f_.path_ + ": out of memory for the decoder");
      int rc = avcodec_parameters_to_context(ctx_.get(), f_.stream_->codecpar);
      if (rc >= 0) {
        ctx_->pkt_timebase = f_.stream_->time_base;
        // FFmpeg's own threads (one per core; frame threading is bit-exact):
        // clips decode every frame between keyframes, sampled or not.
        ctx_->thread_count = 0;
        rc = avcodec_open2(ctx_.get(), f_.decoder_, nullptr);
      }
      if (rc < 0) throw Error(f_.path_ + ": cannot open the " + f_.decoder_->name + " decoder (" + ffmpeg::error_text(rc) + ")");
      pkt_.reset(av_packet_alloc());
      frame_.reset(av_frame_alloc());
      if (!pkt_ || !frame_) throw Error(f_.path_ + ": out of memory for decoding");
      seekable_ = f_.info_.fps.has_value() && !(f_.fmt_->iformat->flags & AVFMT_NOTIMESTAMPS);
      if (f_.rewind_needed_) f_.rewind();
      f_.rewind_needed_ = true;  // the next call starts from wherever this one stops
    }

    void run(const std::vector<int64_t>& indices, const FrameCallback& on_frame) {
      indices_ = &indices;
      on_frame_ = &on_frame;
      bool draining = false;
      while (k_ < indices.size()) {
        if (!draining) maybe_seek();
        if (!draining) {
          const int rc = av_read_frame(f_.fmt_, pkt_.get());
          if (rc < 0) {
            // End of file, or a read error in a damaged file: either way no
            // more packets; what is still inside the decoder comes out below.
            draining = true;
            send(nullptr);
          } else {
            if (pkt_->stream_index == f_.stream_index_) send(pkt_.get());
            av_packet_unref(pkt_.get());
          }
        }
        if (receive_frames() == AVERROR_EOF) break;
      }
      if (k_ < indices.size())
        throw Error(f_.path_ + ": only " + std::to_string(next_index_) + " of the " +
                    std::to_string(f_.info_.total_frames) + " frames the header declares could be decoded (frame " +
                    std::to_string(indices[k_]) + " was needed); the file is truncated or corrupt" +
                    (ffmpeg::last_log_message().empty() ? "" : " (" + ffmpeg::last_log_message() + ")"));
    }

   private:
    void send(const AVPacket* pkt) {
      const int rc = avcodec_send_packet(ctx_.get(), pkt);
      if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
        throw Error(f_.path_ + ": decoding failed near frame " + std::to_string(next_index_) + " (" +
                    ffmpeg::error_text(rc) + "); the file is truncated or corrupt");
    }

    // Takes every frame the decoder has ready; returns the last status.
    int receive_frames() {
      for (;;) {
        const int rc = avcodec_receive_frame(ctx_.get(), frame_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return rc;
        if (rc < 0)
          throw Error(f_.path_ + ": decoding failed near frame " + std::to_string(next_index_) + " (" +
                      ffmpeg::error_text(rc) + "); the file is truncated or corrupt");
        take_frame();
        av_frame_unref(frame_.get());
        if (k_ == indices_->size()) return 0;
        if (restart_) {
          restart_ = false;
          return 0;
        }
      }
    }

    int64_t index_from_timestamp(int64_t ts) const {
      const double seconds = static_cast<double>(ts - f_.start_pts()) * av_q2d(f_.stream_->time_base);
      return std::llround(seconds * *f_.info_.fps);
    }

    int64_t timestamp_of_index(int64_t index) const {
      return f_.start_pts() +
             std::llround(static_cast<double>(index) / *f_.info_.fps / av_q2d(f_.stream_->time_base));
    }

    // Seeks when the next wanted frame lies beyond the keyframe that the
    // decoder would otherwise reach by decoding forward.
    void maybe_seek() {
      if (!seekable_ || !index_known_) return;
      const int64_t target = (*indices_)[k_];
      if (target <= next_index_) return;
      const int64_t target_ts = timestamp_of_index(target);
      const AVIndexEntry* key =
          avformat_index_get_entry_from_timestamp(f_.stream_, target_ts, AVSEEK_FLAG_BACKWARD);
      if (key) {
        if (index_from_timestamp(key->timestamp) <= next_index_) return;
      } else if (target - next_index_ < std::max<int64_t>(64, std::llround(4 * *f_.info_.fps))) {
        return;  // no index: seek only over long gaps
      }
      if (av_seek_frame(f_.fmt_, f_.stream_index_, target_ts, AVSEEK_FLAG_BACKWARD) < 0) return;
      avcodec_flush_buffers(ctx_.get());
      index_known_ = false;
    }

    void take_frame() {
      int64_t index = next_index_;
      if (!index_known_) {
        const int64_t ts = frame_->best_effort_timestamp;
        if (ts == AV_NOPTS_VALUE || index_from_timestamp(ts) > (*indices_)[k_]) {
          // Cannot tell where the seek landed, or it overshot: count from the start.
          start_over();
          return;
        }
        index = index_from_timestamp(ts);
        index_known_ = true;
      }
      next_index_ = index + 1;
      if (frame_->width != f_.info_.width || frame_->height != f_.info_.height)
        throw Error(f_.path_ + ": frame " + std::to_string(index) + " is " + std::to_string(frame_->width) + "x" +
                    std::to_string(frame_->height) + " but the stream declares " + std::to_string(f_.info_.width) +
                    "x" + std::to_string(f_.info_.height) + " (size changes within a video are not supported)");
      bool converted = false;
      while (k_ < indices_->size() && (*indices_)[k_] == index) {
        if (!converted) convert();
        converted = true;
        (*on_frame_)(k_, rgb_);
        ++k_;
      }
    }

    void start_over() {
      f_.rewind();
      avcodec_flush_buffers(ctx_.get());
      seekable_ = false;
      index_known_ = true;
      next_index_ = 0;
      restart_ = true;
    }

    void convert() {
      const int w = frame_->width, h = frame_->height;
      sws_.reset(sws_getCachedContext(sws_.release(), w, h, static_cast<AVPixelFormat>(frame_->format), w, h,
                                      AV_PIX_FMT_RGB24, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                      nullptr, nullptr, nullptr));
      if (!sws_)
        throw Error(f_.path_ + ": cannot convert frames of pixel format " +
                    (av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format))
                         ? av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format))
                         : "unknown") +
                    " to RGB");
      if (rgb_.width != w || rgb_.height != h) rgb_ = RgbImage(w, h);
      uint8_t* dst[4] = {rgb_.pixels.data(), nullptr, nullptr, nullptr};
      const int dst_stride[4] = {3 * w, 0, 0, 0};
      sws_scale(sws_.get(), frame_->data, frame_->linesize, 0, h, dst, dst_stride);
    }

    VideoFile& f_;
    std::unique_ptr<AVCodecContext, CodecFree> ctx_;
    std::unique_ptr<AVPacket, PacketFree> pkt_;
    std::unique_ptr<AVFrame, FrameFree> frame_;
    std::unique_ptr<SwsContext, SwsFree> sws_;
    RgbImage rgb_;
    const std::vector<int64_t>* indices_ = nullptr;
    const FrameCallback* on_frame_ = nullptr;
    size_t k_ = 0;             // next position in indices
    int64_t next_index_ = 0;   // index of the next frame the decoder outputs
    bool index_known_ = true;  // false right after a seek
    bool seekable_ = false;
    bool restart_ = false;
  };

  std::string path_;
  VideoDecodeLimits limits_;
  std::vector<uint8_t> memory_;  // the encoded video, when read from memory
  size_t memory_pos_ = 0;
  bool in_memory_ = false;
  AVIOContext* io_ = nullptr;  // custom I/O over memory_
  AVFormatContext* fmt_ = nullptr;
  AVStream* stream_ = nullptr;
  const AVCodec* decoder_ = nullptr;
  int stream_index_ = -1;
  bool rewind_needed_ = false;
  FrameSourceInfo info_;
};

}  // namespace

std::unique_ptr<FrameSource> open_video_file(const std::string& path, const VideoDecodeLimits& limits) {
  return std::make_unique<VideoFile>(path, limits);
}

std::unique_ptr<FrameSource> open_video_memory(std::vector<uint8_t> bytes, const std::string& name,
                                               const VideoDecodeLimits& limits) {
  return std::make_unique<VideoFile>(std::move(bytes), name, limits);
}

}  // namespace qwen3vl
