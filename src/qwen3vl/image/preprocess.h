// The Qwen2-VL image processor's slow path from a decoded RGB image to the
// vision encoder's input: smart_resize -> PIL-exact bicubic resize -> rescale
// and normalise -> repeat to temporal_patch_size frames -> flatten patches.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/rgb_image.h"
#include "qwen3vl/image/smart_resize.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/tensor/vision_grid.h"

namespace qwen3vl {

struct PreprocessedImage {
  // [grid.patches(), patch_dim] row-major. Rows are ordered
  // (t, h/merge, w/merge, merge_row, merge_col) so each merge group of
  // merge^2 patches is contiguous; columns are (channel, frame, y, x) within
  // a patch: exactly transformers' reshape + permute(0,3,6,4,7,2,1,5,8).
  std::vector<float> pixel_values;
  int patch_dim = 0;  // channels * temporal_patch_size * patch_size^2 (1536)
  VisionGrid grid;  // t = 1: the image repeated to temporal_patch_size frames
  int resized_width = 0;
  int resized_height = 0;
};

// The float value of each 8-bit sample, per channel: rescaling and
// normalisation are per-value maps, so 256 entries per channel reproduce
// them exactly whatever order of float operations a processor uses.
using SampleValueTables = std::array<std::array<float, 256>, 3>;

// The image processor's tables: float32((float64)v * rescale_factor), then
// (x - mean) / std in float32 (numpy's rescale() and normalize()).
SampleValueTables image_value_tables(const PreprocessorConfig& config);

// Flattens `num_frames` frames of the same size (both sides multiples of
// patch_size * merge_size, num_frames a multiple of temporal_patch_size) into
// patch rows: frames [k*tp, (k+1)*tp) form temporal patch k; rows are ordered
// (t, h/merge, w/merge, merge_row, merge_col) and columns (channel, frame, y,
// x). Writes grid t*h*w rows of 3*tp*patch^2 floats to `out`. Throws Error for
// mismatched sizes or counts.
void flatten_patches(const RgbImage* const* frames, int num_frames, const SampleValueTables& values,
                     const PreprocessorConfig& config, float* out);

// Rescales, normalises and flattens an image that already has its final size
// (both sides multiples of patch_size * merge_size; else Error). Values are
// float32((float64)x * rescale_factor), then (v - mean) / std in float32, as
// numpy computes them in transformers' rescale() and normalize().
PreprocessedImage patchify_image(const RgbImage& resized, const PreprocessorConfig& config);

// Full pipeline. Pixel bounds come from the config with `limits` applied;
// the resize runs on `pool`. Throws Error for an aspect ratio over 200 or an
// empty image.
PreprocessedImage preprocess_image(const RgbImage& image, const PreprocessorConfig& config, ThreadPool& pool,
                                   const ImageSizeLimits& limits = {});

// The size preprocess_image resizes to (for token counting without pixels).
ImageSize preprocessed_size(int height, int width, const PreprocessorConfig& config,
                            const ImageSizeLimits& limits = {});

}  // namespace qwen3vl
