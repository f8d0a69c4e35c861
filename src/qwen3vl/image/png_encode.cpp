#include "qwen3vl/image/png_encode.h"

#include <png.h>

#include <cmath>
#include <cstring>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"

namespace qwen3vl {

std::vector<uint8_t> encode_png(const RgbImage& image) {
  check(image.width > 0 && image.height > 0, "encode_png: empty image");
  png_image img;
  std::memset(&img, 0, sizeof(img));
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(image.width);
  img.height = static_cast<png_uint_32>(image.height);
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, nullptr, &size, 0, image.pixels.data(), 0, nullptr))
    throw Error(std::string("PNG encoding failed: ") + img.message);
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&img, out.data(), &size, 0, image.pixels.data(), 0, nullptr))
    throw Error(std::string("PNG encoding failed: ") + img.message);
  out.resize(size);
  return out;
}

void write_png_file(const RgbImage& image, const std::string& path) {
  const auto bytes = encode_png(image);
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

RgbImage synthetic_image(int width, int height, uint32_t seed) {
  RgbImage img(width, height);
  uint32_t state = seed * 2654435761u + 12345u;
  for (int y = 0; y < height; ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < width; ++x) {
      state = state * 1664525u + 1013904223u;
      const float fx = float(x) / float(width), fy = float(y) / float(height);
      const float cx = fx - 0.5f, cy = fy - 0.5f;
      const bool disc = cx * cx + cy * cy < 0.06f;
      const float stripes = 0.5f + 0.5f * std::sin(40.0f * fx + 13.0f * fy);
      const float noise = float(state >> 24) / 255.0f;
      row[3 * x + 0] = static_cast<uint8_t>(255.0f * (disc ? 0.9f : fx * 0.8f + 0.1f * noise));
      row[3 * x + 1] = static_cast<uint8_t>(255.0f * (disc ? 0.2f * stripes : fy * 0.7f + 0.2f * stripes));
      row[3 * x + 2] = static_cast<uint8_t>(255.0f * (0.5f * stripes + 0.3f * (1.0f - fx) + 0.2f * noise));
    }
  }
  return img;
}

}  // namespace qwen3vl
