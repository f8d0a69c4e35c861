// The Qwen3-VL video processor's choice of the frame size: like the image
// smart_resize, but the pixel budget covers all sampled frames together, so
// longer clips get smaller frames.
#pragma once
#include <cstdint>

#include "qwen3vl/image/smart_resize.h"

namespace qwen3vl {

// transformers' video smart_resize (qwen3_vl/video_processing_qwen3_vl.py):
//   num_frames < temporal_factor          -> Error
//   a side under `factor`: both scaled up by max(f/H, f/W) (truncated to int)
//   aspect ratio over 200                 -> Error
//   h, w = round(H/f)*f, round(W/f)*f;  t = round(n/tf)*tf  (half to even)
//   t*h*w > max: beta = sqrt(n*H*W/max); h = max(f, floor(H/beta/f)*f), same w
//   t*h*w < min: beta = sqrt(min/(n*H*W)); h = ceil(H*beta/f)*f, same w
// in double precision, in the reference's order of operations.
ImageSize smart_resize_video(int64_t num_frames, int64_t height, int64_t width, int factor,
                             int temporal_factor, int64_t min_pixels, int64_t max_pixels);

// The clip's pixel budget: `max_pixels`, or with transformers' optional
// per-frame cap, min(768 * factor^2, max_pixels / n) floored at
// int(1.05 * min_pixels), times n.
int64_t video_max_pixels(int64_t num_frames, int factor, int64_t min_pixels, int64_t max_pixels,
                         bool cap_pixels_per_frame);

}  // namespace qwen3vl
