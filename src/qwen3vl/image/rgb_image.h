// An 8-bit RGB image in row-major HxWx3 order: what every decoder produces and
// what the bicubic resize and the patchifier consume. Matches the numpy array
// the Hugging Face processor holds after PIL's Image.convert("RGB").
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qwen3vl {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3 bytes, R,G,B interleaved

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3) {}

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace qwen3vl
