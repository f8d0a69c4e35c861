// Writes RGB images as PNG (libpng): benchmarks and tests make images the
// pipeline then reads back like any user file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

std::vector<uint8_t> encode_png(const RgbImage& image);
// Throws Error naming the path on failure.
void write_png_file(const RgbImage& image, const std::string& path);

// A deterministic test card: smooth colour gradients with shapes and fine
// detail, so resizing and the vision encoder see realistic variation.
RgbImage synthetic_image(int width, int height, uint32_t seed = 1);

}  // namespace qwen3vl
