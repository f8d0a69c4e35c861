#include "qwen3vl/image/smart_resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

// Python 3's round() of a double to an integer: ties go to the even neighbour.
int64_t round_half_even(double x) {
  const double lower = std::floor(x);
  const double diff = x - lower;
  int64_t r = static_cast<int64_t>(lower);
  if (diff > 0.5 || (diff == 0.5 && (r % 2 != 0))) ++r;
  return r;
}

}  // namespace

ImageSize smart_resize(int64_t height, int64_t width, int factor, int64_t min_pixels,
                       int64_t max_pixels) {
  if (height <= 0 || width <= 0)
    throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) + " is empty");
  if (factor <= 0) throw Error("smart_resize: factor must be positive");
  const double ratio =
      static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width));
  if (ratio > 200.0)
    throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                ": absolute aspect ratio must be at most 200, got " + std::to_string(ratio));
  const double h = static_cast<double>(height), w = static_cast<double>(width);
  const double f = static_cast<double>(factor);
  int64_t h_bar = round_half_even(h / f) * factor;
  int64_t w_bar = round_half_even(w / f) * factor;
  if (h_bar * w_bar > max_pixels) {
    const double beta = std::sqrt(h * w / static_cast<double>(max_pixels));
    h_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(h / beta / f)) * factor);
    w_bar = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(w / beta / f)) * factor);
  } else if (h_bar * w_bar < min_pixels) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    h_bar = static_cast<int64_t>(std::ceil(h * beta / f)) * factor;
    w_bar = static_cast<int64_t>(std::ceil(w * beta / f)) * factor;
  }
  if (h_bar <= 0 || w_bar <= 0 || h_bar > INT32_MAX || w_bar > INT32_MAX)
    throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                ": resized size out of range");
  return ImageSize{static_cast<int>(h_bar), static_cast<int>(w_bar)};
}

PixelBounds resolve_pixel_bounds(const PreprocessorConfig& config, const ImageSizeLimits& limits) {
  if (limits.min_tokens < 0 || limits.max_tokens < 0)
    throw Error("image token limits must not be negative");
  const int64_t unit = static_cast<int64_t>(config.patch_size) * config.merge_size;
  const int64_t pixels_per_token = unit * unit;
  PixelBounds b{config.min_pixels, config.max_pixels};
  const bool has_min = limits.min_tokens > 0, has_max = limits.max_tokens > 0;
  if (has_min && has_max && limits.min_tokens > limits.max_tokens)
    throw Error("image min tokens (" + std::to_string(limits.min_tokens) + ") exceed max tokens (" +
                std::to_string(limits.max_tokens) + ")");
  if (has_min) b.min_pixels = limits.min_tokens * pixels_per_token;
  if (has_max) b.max_pixels = limits.max_tokens * pixels_per_token;
  if (b.min_pixels > b.max_pixels) {
    if (has_min) b.max_pixels = b.min_pixels;
    else b.min_pixels = b.max_pixels;
  }
  return b;
}

}  // namespace qwen3vl
