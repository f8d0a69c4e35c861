#include "qwen3vl/video/video_processor_config.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json_fields.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {

namespace {

bool has_pixel_bounds(const Json& j) {
  return (j.contains("size") && j["size"].is_object()) || j.contains("min_pixels") || j.contains("max_pixels");
}

}  // namespace

VideoProcessorConfig parse_video_processor_config(const Json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  VideoProcessorConfig c;
  const PreprocessorConfig class_defaults = c.frames;
  c.frames = parse_preprocessor_config(j, source);
  if (!has_pixel_bounds(j)) {
    c.frames.min_pixels = class_defaults.min_pixels;
    c.frames.max_pixels = class_defaults.max_pixels;
  }
  c.fps = json_optional<double>(j, "fps", c.fps, source);
  c.min_frames = json_optional<int>(j, "min_frames", c.min_frames, source);
  c.max_frames = json_optional<int>(j, "max_frames", c.max_frames, source);
  c.do_sample_frames = json_optional<bool>(j, "do_sample_frames", c.do_sample_frames, source);
  c.cap_pixels_per_frame = json_optional<bool>(j, "cap_pixels_per_frame", c.cap_pixels_per_frame, source);
  if (j.contains("num_frames") && !j["num_frames"].is_null())
    c.num_frames = json_required<int64_t>(j, "num_frames", source);
  if (!(c.fps > 0)) throw Error(source + ": \"fps\" must be positive");
  if (c.min_frames < 1 || c.max_frames < c.min_frames)
    throw Error(source + ": frame bounds must satisfy 1 <= min_frames <= max_frames");
  if (c.num_frames && *c.num_frames < 1) throw Error(source + ": \"num_frames\" must be positive");
  if (c.frames.temporal_patch_size < 1 || c.frames.patch_size < 1 || c.frames.merge_size < 1)
    throw Error(source + ": patch sizes must be positive");
  return c;
}

VideoProcessorConfig load_video_processor_config(const std::string& dir) {
  for (const char* name : {"/video_preprocessor_config.json", "/preprocessor_config.json"}) {
    const std::string path = dir + name;
    if (file_exists(path)) return parse_video_processor_config(load_json_file(path), path);
  }
  return VideoProcessorConfig{};
}

}  // namespace qwen3vl
