// Bicubic resampling bit-identical to Pillow's Image.resize(size, BICUBIC) on
// 8-bit RGB (libImaging/Resample.c), which the Qwen2-VL slow processor uses.
//
// The algorithm, restated: a separable convolution, first horizontal then
// vertical, each pass done only when that dimension changes. For each output
// position the cubic kernel (a = -0.5, support 2) is stretched by the scale
// factor when downscaling (antialiasing), evaluated in double at the source
// pixel centres, normalised to sum 1, then rounded to 22-bit fixed point
// (round half away from zero). Each pass accumulates integer products starting
// from 0.5 in fixed point, shifts right by 22 (floor) and clamps to 0..255, so
// the intermediate image is 8-bit as in Pillow.
#pragma once
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

// Throws Error for non-positive output sizes or an empty input. Rows are
// spread over `pool` (integer arithmetic: the result does not depend on it).
RgbImage resize_bicubic(const RgbImage& source, int out_width, int out_height, ThreadPool& pool);

}  // namespace qwen3vl
