// Where a video's frames come from: a video file (decoded with FFmpeg) or a
// list of image files, one per frame. Opening reads only what the processor
// needs to plan (frame count, rate, size), so the token cost of a clip is
// known, and absurd inputs refused, before any frame is decoded.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

struct FrameSourceInfo {
  std::string name;   // the file path, or "frame list of N images"
  int width = 0;      // frame size
  int height = 0;
  int64_t total_frames = 0;
  std::optional<double> fps;  // frames per second; unknown for frame lists
  bool is_frame_list = false;  // frames chosen by the caller: used as given
  std::string description;     // e.g. "avi / png, 160x96, 20 frames at 10 fps"
};

struct VideoDecodeLimits {
  // Largest accepted frame width*height, checked against the header: the
  // image decoders' decompression-bomb cap.
  int64_t max_frame_pixels = 178956970;
  // Largest accepted frame count (header or counted): ~93 hours at 30 fps.
  int64_t max_frames = 10'000'000;
};

// Called once per requested position k with the frame at indices[k]; the
// frame buffer is reused, so copy what must outlive the call.
using FrameCallback = std::function<void(size_t k, const RgbImage& frame)>;

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const FrameSourceInfo& info() const = 0;
  // Decodes exactly the frames at `indices` (non-decreasing, each below
  // total_frames) and nothing is kept beyond the frame being delivered.
  // Throws Error naming the source when a frame cannot be produced.
  virtual void read_frames(const std::vector<int64_t>& indices, const FrameCallback& on_frame) = 0;
};

// Opens a video file and reads its metadata (container, codec, frame size,
// frame count, average rate). Throws Error for a missing, unreadable,
// corrupt or frameless file, no video stream, an unsupported codec, a
// declared size or frame count beyond `limits`.
std::unique_ptr<FrameSource> open_video_file(const std::string& path, const VideoDecodeLimits& limits = {});

// The same for an encoded video held in memory (a data: URI's payload, an
// upload); `name` stands for it in errors.
std::unique_ptr<FrameSource> open_video_memory(std::vector<uint8_t> bytes, const std::string& name,
                                               const VideoDecodeLimits& limits = {});

// A video given as image files (frames in order). Only the first image is
// decoded when opening (for the size); every frame must have that size.
std::unique_ptr<FrameSource> open_frame_list(const std::vector<std::string>& paths,
                                             const VideoDecodeLimits& limits = {});

}  // namespace qwen3vl
