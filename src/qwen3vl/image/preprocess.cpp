#include "qwen3vl/image/preprocess.h"

#include <array>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/bicubic_resize.h"

namespace qwen3vl {

namespace {

// The processor maps each uint8 value through the same float operations, so a
// 256-entry table per channel reproduces it exactly.
std::array<std::array<float, 256>, 3> make_value_tables(const PreprocessorConfig& config) {
  std::array<std::array<float, 256>, 3> tables{};
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

}  // namespace

PreprocessedImage patchify_image(const RgbImage& resized, const PreprocessorConfig& config) {
  const int patch = config.patch_size, merge = config.merge_size, frames = config.temporal_patch_size;
  if (patch <= 0 || merge <= 0 || frames <= 0) throw Error("preprocessor config: invalid patch sizes");
  const int unit = patch * merge;
  if (resized.width <= 0 || resized.height <= 0 || resized.width % unit != 0 || resized.height % unit != 0)
    throw Error("patchify: image " + std::to_string(resized.width) + "x" + std::to_string(resized.height) +
                " is not a positive multiple of " + std::to_string(unit) + " on both sides");
  if (resized.pixels.size() != static_cast<size_t>(resized.width) * resized.height * 3)
    throw Error("patchify: pixel buffer does not match the image size");

  PreprocessedImage out;
  out.resized_width = resized.width;
  out.resized_height = resized.height;
  // One still image repeated to temporal_patch_size frames: one temporal patch.
  out.grid = ImageGrid{1, resized.height / patch, resized.width / patch};
  out.patch_dim = 3 * frames * patch * patch;
  out.pixel_values.resize(static_cast<size_t>(out.grid.num_patches()) * out.patch_dim);

  const auto tables = make_value_tables(config);
  const int blocks_h = out.grid.h / merge, blocks_w = out.grid.w / merge;
  const int plane = patch * patch;  // values of one channel of one frame
  float* dst = out.pixel_values.data();
  for (int bh = 0; bh < blocks_h; ++bh)
    for (int bw = 0; bw < blocks_w; ++bw)
      for (int mh = 0; mh < merge; ++mh)
        for (int mw = 0; mw < merge; ++mw) {
          const int y0 = (bh * merge + mh) * patch, x0 = (bw * merge + mw) * patch;
          for (int c = 0; c < 3; ++c) {
            float* first_frame = dst + static_cast<size_t>(c) * frames * plane;
            for (int py = 0; py < patch; ++py) {
              const uint8_t* src = resized.row(y0 + py) + 3 * x0 + c;
              for (int px = 0; px < patch; ++px) first_frame[py * patch + px] = tables[c][src[3 * px]];
            }
            // Every frame is the same image.
            for (int t = 1; t < frames; ++t)
              std::copy(first_frame, first_frame + plane, first_frame + static_cast<size_t>(t) * plane);
          }
          dst += out.patch_dim;
        }
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
