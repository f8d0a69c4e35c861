// The parts of preprocessor_config.json the Qwen2-VL image processor uses:
// pixel bounds, patch geometry and normalisation.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

struct PreprocessorConfig {
  int64_t min_pixels = 56 * 56;
  int64_t max_pixels = 28 * 28 * 1280;
  int patch_size = 16;
  int temporal_patch_size = 2;
  int merge_size = 2;
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};
  double rescale_factor = 1.0 / 255.0;
  bool do_resize = true;
  bool do_rescale = true;
  bool do_normalize = true;
};

// Largest max_pixels a preprocessor config may ask for: 2^18 tokens of 32x32
// pixels, the longest Qwen3-VL context filled with one image.
constexpr int64_t kMaxPreprocessorPixels = int64_t{262144} * 1024;

// Throws Error naming the field for values that make no sense (patch sizes
// outside 1..1024, a non-finite or non-positive rescale factor, pixel bounds
// out of order or above kMaxPreprocessorPixels, ...).
PreprocessorConfig parse_preprocessor_config(const Json& j, const std::string& source);
PreprocessorConfig load_preprocessor_config(const std::string& path);

}  // namespace qwen3vl
