// EXIF orientation, applied as transformers.image_utils.load_image does
// (PIL.ImageOps.exif_transpose) so a phone photo taken sideways reaches the
// model upright. Only JPEG APP1 "Exif" data is read (where cameras put it).
#pragma once
#include <cstddef>
#include <cstdint>

#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

// The orientation tag (0x0112) of IFD0 in an APP1 payload starting with
// "Exif\0\0"; 1 (upright) when absent or malformed. Never reads out of bounds.
int parse_exif_orientation(const uint8_t* app1, size_t size);

// Applies orientation 2..8 (1 and unknown values return the image unchanged):
// 2 mirror, 3 rotate 180, 4 flip vertically, 5 transpose, 6 rotate 90
// clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
RgbImage apply_exif_orientation(const RgbImage& image, int orientation);

}  // namespace qwen3vl
