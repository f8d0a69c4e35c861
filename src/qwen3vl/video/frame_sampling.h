// Which frames of a clip the Qwen3-VL video processor keeps: a frame count
// from the clip's length and the requested rate (or a fixed count), then
// evenly spaced indices.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "qwen3vl/video/video_processor_config.h"

namespace qwen3vl {

// Per-video choices; at most one of the two may be set (else Error). Neither:
// the config's num_frames if it has one, else its fps.
struct FrameSamplingRequest {
  std::optional<double> fps;         // frames per second of video to keep
  std::optional<int64_t> num_frames; // frames to keep
};

// transformers' Qwen3VLVideoProcessor.sample_frames:
//   with a rate:  n = int(total / video_fps * fps), clamped to
//                 [min_frames, max_frames] and then to total;
//                 a clip without a known rate counts as 24 fps
//   with a count: n as given
//   indices = numpy.linspace(0, total - 1, n).round()  (half to even)
// Throws Error for total_frames < 1, a non-positive rate or count, or both.
std::vector<int64_t> sample_frame_indices(int64_t total_frames, std::optional<double> video_fps,
                                          const FrameSamplingRequest& request,
                                          const VideoProcessorConfig& config);

// numpy.linspace(start, stop, n) with numpy's float64 operations (i * step
// from start, the last value set to stop), each rounded half to even.
std::vector<int64_t> linspace_rounded(double start, double stop, int64_t n);

// The rate the reference assumes when a clip has none (frame lists).
constexpr double kDefaultVideoFps = 24.0;

}  // namespace qwen3vl
