#include "qwen3vl/image/preprocess.h"

#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/bicubic_resize.h"

namespace qwen3vl {

SampleValueTables image_value_tables(const PreprocessorConfig& config) {
  SampleValueTables tables{};
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      // rescale(): float64 multiply, then cast to float32.
      float x = config.do_rescale ? static_cast<float>(static_cast<double>(v) * config.rescale_factor)
                                  : static_cast<float>(v);
      // normalize(): float32 arrays, subtract then divide.
      if (config.do_normalize) x = (x - config.image_mean[c]) / config.image_std[c];
      tables[c][v] = x;
    }
  }
  return tables;
}

namespace {

void check_patch_sizes(const PreprocessorConfig& config) {
  if (config.patch_size <= 0 || config.merge_size <= 0 || config.temporal_patch_size <= 0)
    throw Error("preprocessor config: invalid patch sizes");
}

void check_patchable(const RgbImage& image, int unit) {
  if (image.width <= 0 || image.height <= 0 || image.width % unit != 0 || image.height % unit != 0)
    throw Error("patchify: image " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " is not a positive multiple of " + std::to_string(unit) + " on both sides");
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw Error("patchify: pixel buffer does not match the image size");
}

}  // namespace

void flatten_patches(const RgbImage* const* frames, int num_frames, const SampleValueTables& values,
                     const PreprocessorConfig& config, float* out) {
  check_patch_sizes(config);
  const int patch = config.patch_size, merge = config.merge_size, tp = config.temporal_patch_size;
  if (num_frames <= 0 || num_frames % tp != 0)
    throw Error("patchify: " + std::to_string(num_frames) + " frames is not a positive multiple of the temporal patch size " +
                std::to_string(tp));
  const RgbImage& first = *frames[0];
  check_patchable(first, patch * merge);
  for (int f = 1; f < num_frames; ++f)
    if (frames[f]->width != first.width || frames[f]->height != first.height)
      throw Error("patchify: frame " + std::to_string(f) + " is " + std::to_string(frames[f]->width) + "x" +
                  std::to_string(frames[f]->height) + ", frame 0 is " + std::to_string(first.width) + "x" +
                  std::to_string(first.height));
  const int blocks_h = first.height / patch / merge, blocks_w = first.width / patch / merge;
  const int plane = patch * patch;  // values of one channel of one frame
  const int patch_dim = 3 * tp * plane;
  float* dst = out;
  for (int t = 0; t < num_frames / tp; ++t)
    for (int bh = 0; bh < blocks_h; ++bh)
      for (int bw = 0; bw < blocks_w; ++bw)
        for (int mh = 0; mh < merge; ++mh)
          for (int mw = 0; mw < merge; ++mw) {
            const int y0 = (bh * merge + mh) * patch, x0 = (bw * merge + mw) * patch;
            for (int c = 0; c < 3; ++c)
              for (int k = 0; k < tp; ++k) {
                const RgbImage& frame = *frames[t * tp + k];
                float* plane_dst = dst + static_cast<size_t>(c * tp + k) * plane;
                for (int py = 0; py < patch; ++py) {
                  const uint8_t* src = frame.row(y0 + py) + 3 * x0 + c;
                  for (int px = 0; px < patch; ++px) plane_dst[py * patch + px] = values[c][src[3 * px]];
                }
              }
            dst += patch_dim;
          }
}

PreprocessedImage patchify_image(const RgbImage& resized, const PreprocessorConfig& config) {
  check_patch_sizes(config);
  const int patch = config.patch_size, frames = config.temporal_patch_size;
  check_patchable(resized, patch * config.merge_size);
  PreprocessedImage out;
  out.resized_width = resized.width;
  out.resized_height = resized.height;
  // One still image repeated to temporal_patch_size frames: one temporal patch.
  out.grid = VisionGrid{1, resized.height / patch, resized.width / patch};
  out.patch_dim = 3 * frames * patch * patch;
  out.pixel_values.resize(static_cast<size_t>(out.grid.patches()) * out.patch_dim);
  const std::vector<const RgbImage*> repeated(static_cast<size_t>(frames), &resized);
  flatten_patches(repeated.data(), frames, image_value_tables(config), config, out.pixel_values.data());
  return out;
}

ImageSize preprocessed_size(int height, int width, const PreprocessorConfig& config,
                            const ImageSizeLimits& limits) {
  if (!config.do_resize) return ImageSize{height, width};
  const PixelBounds bounds = resolve_pixel_bounds(config, limits);
  return smart_resize(height, width, config.patch_size * config.merge_size, bounds.min_pixels,
                      bounds.max_pixels);
}

PreprocessedImage preprocess_image(const RgbImage& image, const PreprocessorConfig& config, ThreadPool& pool,
                                   const ImageSizeLimits& limits) {
  if (image.width <= 0 || image.height <= 0) throw Error("preprocess: empty image");
  const ImageSize size = preprocessed_size(image.height, image.width, config, limits);
  if (size.height == image.height && size.width == image.width) return patchify_image(image, config);
  return patchify_image(resize_bicubic(image, size.width, size.height, pool), config);
}

}  // namespace qwen3vl
