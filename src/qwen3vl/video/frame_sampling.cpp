#include "qwen3vl/video/frame_sampling.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

std::vector<int64_t> linspace_rounded(double start, double stop, int64_t n) {
  std::vector<int64_t> out;
  if (n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  const double delta = stop - start;
  const int64_t div = n - 1;
  const double step = div > 0 ? delta / static_cast<double>(div) : 0.0;
  for (int64_t i = 0; i < n; ++i) {
    // numpy: y = arange(n) * step + start (when step == 0: i / div * delta),
    // and the endpoint is set exactly. nearbyint rounds half to even in the
    // default rounding mode, as numpy.round does.
    double y;
    if (div > 0 && step == 0.0) y = static_cast<double>(i) / static_cast<double>(div) * delta + start;
    else y = static_cast<double>(i) * step + start;
    if (div > 0 && i == div) y = stop;
    out.push_back(static_cast<int64_t>(std::nearbyint(y)));
  }
  return out;
}

std::vector<int64_t> sample_frame_indices(int64_t total_frames, std::optional<double> video_fps,
                                          const FrameSamplingRequest& request,
                                          const VideoProcessorConfig& config) {
  if (total_frames < 1) throw Error("the video has no frames");
  if (request.fps && request.num_frames)
    throw Error("\"fps\" and \"num_frames\" are mutually exclusive; give one of them");
  if (request.fps && !(*request.fps > 0) )
    throw Error("the sampling rate \"fps\" must be positive, got " + std::to_string(*request.fps));
  if (request.num_frames && *request.num_frames < 1)
    throw Error("\"num_frames\" must be positive, got " + std::to_string(*request.num_frames));
  if (video_fps && !(*video_fps > 0)) throw Error("the video's frame rate must be positive");

  std::optional<int64_t> count = request.num_frames;
  std::optional<double> fps = request.fps;
  if (!count && !fps) {
    if (config.num_frames) count = config.num_frames;
    else fps = config.fps;
  }
  if (!count) {
    const double rate = video_fps.value_or(kDefaultVideoFps);
    // Python's int() truncates toward zero; the operands are positive.
    const double wanted = std::trunc(static_cast<double>(total_frames) / rate * *fps);
    int64_t n = wanted >= 9.0e18 ? INT64_MAX : static_cast<int64_t>(wanted);
    n = std::max<int64_t>(n, config.min_frames);
    n = std::min<int64_t>({n, config.max_frames, total_frames});
    count = n;
  }
  return linspace_rounded(0.0, static_cast<double>(total_frames - 1), *count);
}

}  // namespace qwen3vl
