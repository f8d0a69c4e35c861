// Writes RGB frames as a video file with FFmpeg's encoders: benchmarks and
// tests make clips the pipeline then reads back like any user file, so no
// binary clip needs to be committed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

struct VideoEncodeOptions {
  // Encoder names in order of preference; the first one this FFmpeg build
  // has is used (e.g. "libx264", "mpeg4", "ffv1", "png").
  std::vector<std::string> codecs = {"libx264", "mpeg4"};
  int fps = 30;
  int keyframe_interval = 0;  // 0: the encoder's default
  int64_t bit_rate = 0;       // 0: the encoder's default quality
};

// Encodes `num_frames` frames of width x height; frame(i) returns frame i.
// The container follows the file extension (.mp4, .mkv, .avi, ...). Returns
// the encoder used. Throws Error naming the path on failure.
std::string write_video_file(const std::string& path, int width, int height, int num_frames,
                             const std::function<RgbImage(int)>& frame, const VideoEncodeOptions& options = {});

// Frame i of a deterministic synthetic clip: shapes moving over a textured
// background, so the encoder and the vision tower see realistic content.
RgbImage synthetic_video_frame(int width, int height, int index, int fps);

}  // namespace qwen3vl
