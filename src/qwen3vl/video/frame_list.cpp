// A video given as image files, one per frame, decoded by the image decoders
// (so a frame reads exactly as the same file given as an image).
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/video/frame_source.h"

namespace qwen3vl {

namespace {

class FrameList final : public FrameSource {
 public:
  FrameList(const std::vector<std::string>& paths, const VideoDecodeLimits& limits) : paths_(paths) {
    if (paths.empty()) throw Error("the frame list is empty");
    if (static_cast<int64_t>(paths.size()) > limits.max_frames)
      throw Error("the frame list has " + std::to_string(paths.size()) + " frames, over the limit of " +
                  std::to_string(limits.max_frames));
    decode_limits_.max_pixels = limits.max_frame_pixels;
    // The first frame sets the size every other frame must have.
    first_ = load_image_file(paths[0], decode_limits_);
    info_.width = first_.width;
    info_.height = first_.height;
    info_.total_frames = static_cast<int64_t>(paths.size());
    info_.is_frame_list = true;
    info_.name = "frame list of " + std::to_string(paths.size()) + " images";
    info_.description = info_.name + ", " + std::to_string(first_.width) + "x" + std::to_string(first_.height);
  }

  const FrameSourceInfo& info() const override { return info_; }

  void read_frames(const std::vector<int64_t>& indices, const FrameCallback& on_frame) override {
    RgbImage frame;
    int64_t loaded = -1;
    for (size_t k = 0; k < indices.size(); ++k) {
      const int64_t i = indices[k];
      check(i >= 0 && i < info_.total_frames, "frame list: frame " + std::to_string(i) + " requested of " +
                                                   std::to_string(info_.total_frames));
      if (i == 0) {
        on_frame(k, first_);
        continue;
      }
      if (i != loaded) {
        frame = load_image_file(paths_[i], decode_limits_);
        loaded = i;
        if (frame.width != info_.width || frame.height != info_.height)
          throw Error("frame list: frame " + std::to_string(i) + " (" + paths_[i] + ") is " +
                      std::to_string(frame.width) + "x" + std::to_string(frame.height) + " but frame 0 is " +
                      std::to_string(info_.width) + "x" + std::to_string(info_.height) +
                      "; all frames of a video must have the same size");
      }
      on_frame(k, frame);
    }
  }

 private:
  std::vector<std::string> paths_;
  DecodeLimits decode_limits_;
  RgbImage first_;
  FrameSourceInfo info_;
};

}  // namespace

std::unique_ptr<FrameSource> open_frame_list(const std::vector<std::string>& paths, const VideoDecodeLimits& limits) {
  return std::make_unique<FrameList>(paths, limits);
}

}  // namespace qwen3vl
