#include "qwen3vl/video/video_smart_resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

// Python 3's round(): ties to the even neighbour.
int64_t round_half_even(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

std::string size_text(int64_t width, int64_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

}  // namespace

ImageSize smart_resize_video(int64_t num_frames, int64_t height, int64_t width, int factor,
                             int temporal_factor, int64_t min_pixels, int64_t max_pixels) {
  check(factor > 0 && temporal_factor > 0, "video smart_resize: factors must be positive");
  if (num_frames < temporal_factor)
    throw Error("a video needs at least " + std::to_string(temporal_factor) + " frames, got " +
                std::to_string(num_frames));
  if (height <= 0 || width <= 0) throw Error("video frames of size " + size_text(width, height) + " are empty");
  double h = static_cast<double>(height), w = static_cast<double>(width);
  const double f = static_cast<double>(factor);
  if (height < factor || width < factor) {
    const double scale = std::max(f / h, f / w);
    h = std::trunc(h * scale);
    w = std::trunc(w * scale);
  }
  const double ratio = std::max(h, w) / std::min(h, w);
  if (!(ratio <= 200.0))
    throw Error("video frames " + size_text(width, height) + ": absolute aspect ratio must be at most 200, got " +
                std::to_string(ratio));
  const double n = static_cast<double>(num_frames);
  int64_t h_bar = round_half_even(h / f) * factor;
  int64_t w_bar = round_half_even(w / f) * factor;
  const int64_t t_bar = round_half_even(n / temporal_factor) * temporal_factor;
  // Python integers do not overflow; 128 bits hold any product here.
  const __int128 volume = static_cast<__int128>(t_bar) * h_bar * w_bar;
  if (volume > max_pixels) {
    const double beta = std::sqrt(n * h * w / static_cast<double>(max_pixels));
    h_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(h / beta / f)) * factor);
    w_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(w / beta / f)) * factor);
  } else if (volume < min_pixels) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (n * h * w));
    h_bar = static_cast<int64_t>(std::ceil(h * beta / f)) * factor;
    w_bar = static_cast<int64_t>(std::ceil(w * beta / f)) * factor;
  }
  if (h_bar <= 0 || w_bar <= 0 || h_bar > INT32_MAX || w_bar > INT32_MAX)
    throw Error("video frames " + size_text(width, height) + ": resized size out of range");
  return ImageSize{static_cast<int>(h_bar), static_cast<int>(w_bar)};
}

int64_t video_max_pixels(int64_t num_frames, int factor, int64_t min_pixels, int64_t max_pixels,
                         bool cap_pixels_per_frame) {
  if (!cap_pixels_per_frame || num_frames < 1) return max_pixels;
  const int64_t frame_cap = 768LL * factor * factor;
  const int64_t floor_pixels = static_cast<int64_t>(static_cast<double>(min_pixels) * 1.05);
  const int64_t per_frame = std::max(std::min(frame_cap, max_pixels / num_frames), floor_pixels);
  return per_frame * num_frames;
}

}  // namespace qwen3vl
