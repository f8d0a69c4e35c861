#include "qwen3vl/video/video_preprocess.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/bicubic_resize.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/video/frame_timestamps.h"
#include "qwen3vl/video/video_smart_resize.h"

namespace qwen3vl {

VideoPlan plan_video(const FrameSourceInfo& source, const FrameSamplingRequest& request,
                     const VideoProcessorConfig& config) {
  const PreprocessorConfig& pc = config.frames;
  VideoPlan plan;
  plan.merge_size = pc.merge_size;
  if (source.is_frame_list) {
    if (request.fps || request.num_frames)
      throw Error(source.name + ": a frame list is used as given; \"fps\" and \"num_frames\" apply to video files");
  } else if (request.fps && request.num_frames) {
    throw Error(source.name + ": \"fps\" and \"num_frames\" are mutually exclusive; give one of them");
  }
  if (source.total_frames < 1) throw Error(source.name + ": the video has no frames");
  if (source.is_frame_list || !config.do_sample_frames) {
    plan.frame_indices.resize(static_cast<size_t>(source.total_frames));
    for (int64_t i = 0; i < source.total_frames; ++i) plan.frame_indices[i] = i;
  } else {
    plan.frame_indices = sample_frame_indices(source.total_frames, source.fps, request, config);
  }
  const int64_t n = static_cast<int64_t>(plan.frame_indices.size());
  if (n < pc.temporal_patch_size)
    throw Error(source.name + ": a video needs at least " + std::to_string(pc.temporal_patch_size) +
                " frames, this one gives " + std::to_string(n));
  plan.timestamp_fps = source.fps.value_or(kDefaultVideoFps);
  plan.timestamps = frame_pair_timestamps(plan.frame_indices, plan.timestamp_fps, pc.temporal_patch_size);

  const int factor = pc.patch_size * pc.merge_size;
  if (pc.do_resize) {
    const int64_t max_pixels =
        video_max_pixels(n, factor, pc.min_pixels, pc.max_pixels, config.cap_pixels_per_frame);
    try {
      plan.resized = smart_resize_video(n, source.height, source.width, factor, pc.temporal_patch_size,
                                        pc.min_pixels, max_pixels);
    } catch (const Error& e) {
      throw Error(source.name + ": " + e.what());
    }
  } else {
    plan.resized = ImageSize{source.height, source.width};
    if (source.height % factor != 0 || source.width % factor != 0)
      throw Error(source.name + ": without resizing, frames must be multiples of " + std::to_string(factor) +
                  " on both sides, got " + std::to_string(source.width) + "x" + std::to_string(source.height));
  }
  const int64_t pairs = (n + pc.temporal_patch_size - 1) / pc.temporal_patch_size;
  plan.grid_t = pairs;
  plan.grid_h = plan.resized.height / pc.patch_size;
  plan.grid_w = plan.resized.width / pc.patch_size;
  return plan;
}

SampleValueTables video_value_tables(const PreprocessorConfig& config) {
  SampleValueTables tables{};
  std::array<float, 3> mean = config.image_mean, stdev = config.image_std;
  const bool fused = config.do_rescale && config.do_normalize;
  if (fused) {
    // torch.tensor(mean) * (1.0 / rescale_factor): float32 times a Python
    // float rounded to float32.
    const float inverse = static_cast<float>(1.0 / config.rescale_factor);
    for (int c = 0; c < 3; ++c) {
      mean[c] *= inverse;
      stdev[c] *= inverse;
    }
  }
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      float x = static_cast<float>(v);
      if (config.do_normalize) x = (x - mean[c]) / stdev[c];
      else if (config.do_rescale) x = x * static_cast<float>(config.rescale_factor);
      tables[c][v] = x;
    }
  return tables;
}

PreprocessedVideo preprocess_video(FrameSource& source, const VideoPlan& plan, const VideoProcessorConfig& config,
                                   ThreadPool& pool, std::vector<RgbImage>* resized_frames) {
  const PreprocessorConfig& pc = config.frames;
  const FrameSourceInfo& info = source.info();
  const size_t n = plan.frame_indices.size();
  const size_t padded = static_cast<size_t>(plan.grid_t * pc.temporal_patch_size);
  check(n >= 1 && padded >= n && padded - n < static_cast<size_t>(pc.temporal_patch_size),
        info.name + ": the plan's grid does not match its frames");
  // Each frame is resized as soon as it is decoded: memory holds the sampled
  // frames at their final size plus one source frame.
  std::vector<RgbImage> frames(n);
  const bool same_size = plan.resized.width == info.width && plan.resized.height == info.height;
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  Clock::duration resizing{};
  const auto start = Clock::now();
  source.read_frames(plan.frame_indices, [&](size_t k, const RgbImage& frame) {
    const auto t = Clock::now();
    if (frame.width != info.width || frame.height != info.height)
      throw Error(info.name + ": frame " + std::to_string(plan.frame_indices[k]) + " is " +
                  std::to_string(frame.width) + "x" + std::to_string(frame.height) + ", expected " +
                  std::to_string(info.width) + "x" + std::to_string(info.height));
    frames[k] = same_size ? frame : resize_bicubic(frame, plan.resized.width, plan.resized.height, pool);
    resizing += Clock::now() - t;
  });
  const auto decoded = Clock::now();
  if (resized_frames) *resized_frames = frames;

  // Pad to whole frame pairs by repeating the last frame.
  std::vector<const RgbImage*> order(padded);
  for (size_t i = 0; i < padded; ++i) order[i] = &frames[std::min(i, n - 1)];
  PreprocessedVideo out;
  out.plan = plan;
  out.patch_dim = 3 * pc.temporal_patch_size * pc.patch_size * pc.patch_size;
  out.pixel_values.resize(static_cast<size_t>(plan.patches()) * out.patch_dim);
  flatten_patches(order.data(), static_cast<int>(padded), video_value_tables(pc), pc, out.pixel_values.data());
  out.decode_ms = ms(decoded - start - resizing);
  out.preprocess_ms = ms(resizing + (Clock::now() - decoded));
  return out;
}

}  // namespace qwen3vl
