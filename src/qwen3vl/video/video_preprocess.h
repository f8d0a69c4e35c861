// The Qwen3-VL video processor from a frame source to the vision encoder's
// input, in two steps so that a clip's token cost is known (and checked
// against the context) before any frame is decoded:
//   plan_video:       sampled frame indices, timestamps, resized size, grid
//   preprocess_video: decode only the sampled frames, resize each as it
//                     arrives (Pillow-exact bicubic; the reference resizes
//                     uint8 tensors with torchvision's antialiased bicubic,
//                     which follows the same algorithm), pad to a whole number of frame pairs by
//                     repeating the last, normalise, flatten patches.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/image/rgb_image.h"
#include "qwen3vl/image/smart_resize.h"
#include "qwen3vl/video/frame_sampling.h"
#include "qwen3vl/video/frame_source.h"
#include "qwen3vl/video/video_processor_config.h"

namespace qwen3vl {

struct VideoPlan {
  std::vector<int64_t> frame_indices;  // into the source's frames, before padding
  double timestamp_fps = 0;            // the rate timestamps are computed with
  std::vector<double> timestamps;      // seconds, one per temporal patch (frame pair)
  ImageSize resized;                   // every frame's size after resizing
  // video_grid_thw: frame pairs (temporal patches), patch rows, patch columns.
  int64_t grid_t = 0, grid_h = 0, grid_w = 0;
  int merge_size = 2;

  int64_t patches() const { return grid_t * grid_h * grid_w; }
  int64_t tokens_per_frame_pair() const { return grid_h * grid_w / (merge_size * merge_size); }
  int64_t tokens() const { return grid_t * tokens_per_frame_pair(); }
};

// Throws Error when the request is invalid for this source (fps/num_frames
// on a frame list, both at once), the clip has fewer frames than one frame
// pair, or the frame size is unusable (aspect ratio over 200).
//  - files: frames sampled as the reference does (unless the config says
//    do_sample_frames false: then all frames), timestamps at the file's rate
//    (24 fps when it has none);
//  - frame lists: used as given, timestamps at 24 fps (the reference's
//    default for frames without metadata).
VideoPlan plan_video(const FrameSourceInfo& source, const FrameSamplingRequest& request,
                     const VideoProcessorConfig& config);

struct PreprocessedVideo {
  VideoPlan plan;
  int patch_dim = 0;
  std::vector<float> pixel_values;  // [plan.patches(), patch_dim]
  double decode_ms = 0;      // reading and decoding the sampled frames
  double preprocess_ms = 0;  // resizing, normalising, flattening
};

// The video processor's value of each 8-bit sample: torchvision's fused
// form, mean and std multiplied by 1/rescale_factor in float32, then
// (x - mean) / std in float32 ((x - 127.5) / 127.5 for the Qwen configs).
SampleValueTables video_value_tables(const PreprocessorConfig& config);

// Decodes and preprocesses `plan`'s frames. `resized_frames`, when given,
// receives the frames after resizing, before padding (for dumps and tests).
// `pool` runs the resizes.
PreprocessedVideo preprocess_video(FrameSource& source, const VideoPlan& plan, const VideoProcessorConfig& config,
                                   ThreadPool& pool, std::vector<RgbImage>* resized_frames = nullptr);

}  // namespace qwen3vl
