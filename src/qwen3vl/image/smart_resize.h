// The Qwen2-VL processor's choice of the resized image size: both sides a
// multiple of `factor` (patch_size * merge_size), the pixel count inside
// [min_pixels, max_pixels], the aspect ratio kept as well as possible.
#pragma once
#include <cstdint>

#include "qwen3vl/image/preprocessor_config.h"

namespace qwen3vl {

struct ImageSize {
  int height = 0;
  int width = 0;
  bool operator==(const ImageSize&) const = default;
};

// Exactly transformers' smart_resize:
//   ratio max/min > 200                  -> Error
//   h, w = round(H/f)*f, round(W/f)*f      (Python round: half to even, so
//                                           400/32 = 12.5 -> 12)
//   h*w > max: beta = sqrt(H*W/max); h = max(f, floor(H/beta/f)*f), same for w
//   h*w < min: beta = sqrt(min/(H*W)); h = ceil(H*beta/f)*f, same for w
// with the same double-precision operations in the same order.
ImageSize smart_resize(int64_t height, int64_t width, int factor, int64_t min_pixels,
                       int64_t max_pixels);

// User overrides of the pixel budget in merged-token units, like llama.cpp's
// --image-min-tokens / --image-max-tokens: one token covers
// (patch_size * merge_size)^2 pixels. 0 keeps the preprocessor config value.
struct ImageSizeLimits {
  int64_t min_tokens = 0;
  int64_t max_tokens = 0;
};

struct PixelBounds {
  int64_t min_pixels = 0;
  int64_t max_pixels = 0;
};

// Config bounds with the overrides applied. When only one side is overridden
// and crosses the other, the other follows it; when both are given and
// min > max, or a value is negative, throws Error.
PixelBounds resolve_pixel_bounds(const PreprocessorConfig& config, const ImageSizeLimits& limits);

}  // namespace qwen3vl
