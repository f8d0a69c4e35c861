// The Qwen3-VL video processor's settings (video_preprocessor_config.json):
// how many frames to sample (fps, min/max frames), the pixel budget of the
// whole clip, and the same patch/normalisation fields as the image processor.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "qwen3vl/base/json.h"
#include "qwen3vl/image/preprocessor_config.h"

namespace qwen3vl {

struct VideoProcessorConfig {
  // Patch sizes, mean/std, rescale factor and the pixel bounds. For videos the
  // bounds (size.shortest_edge / size.longest_edge) apply to all sampled
  // frames together (frames x height x width), not to one frame.
  PreprocessorConfig frames{128 * 32 * 32, 32 * 32 * 768};
  double fps = 2.0;     // frames sampled per second of video
  int min_frames = 4;   // sampling clamps the count to [min_frames, max_frames]
  int max_frames = 768;
  std::optional<int64_t> num_frames;  // a fixed frame count instead of fps
  bool do_sample_frames = true;       // false: every decoded frame is used
  // transformers' newer per-frame cap (qwen-vl-utils' rule); off by default as
  // in transformers <= 5.21 and the published configs.
  bool cap_pixels_per_frame = false;
};

// Parses a video_preprocessor_config.json (or, as transformers falls back to
// it, a preprocessor_config.json). `source` names the file in errors. Missing
// fields take the Qwen3VLVideoProcessor class defaults (pixel bounds
// 131072..786432; the published checkpoints set 4096..25165824).
VideoProcessorConfig parse_video_processor_config(const Json& j, const std::string& source);

// Loads `dir`/video_preprocessor_config.json; without it, the video fields of
// `dir`/preprocessor_config.json (transformers' fallback); without either, the
// defaults.
VideoProcessorConfig load_video_processor_config(const std::string& dir);

}  // namespace qwen3vl
