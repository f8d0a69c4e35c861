#include "qwen3vl/image/preprocessor_config.h"

#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json_fields.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {

PreprocessorConfig parse_preprocessor_config(const Json& j, const std::string& source) {
  PreprocessorConfig p;
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  // Qwen2-VL processors store the pixel bounds either in size{} or flat.
  if (j.contains("size") && j["size"].is_object()) {
    p.min_pixels = json_optional<int64_t>(j["size"], "shortest_edge", p.min_pixels, source);
    p.max_pixels = json_optional<int64_t>(j["size"], "longest_edge", p.max_pixels, source);
  }
  p.min_pixels = json_optional<int64_t>(j, "min_pixels", p.min_pixels, source);
  p.max_pixels = json_optional<int64_t>(j, "max_pixels", p.max_pixels, source);
  p.patch_size = json_optional<int>(j, "patch_size", p.patch_size, source);
  p.temporal_patch_size = json_optional<int>(j, "temporal_patch_size", p.temporal_patch_size, source);
  p.merge_size = json_optional<int>(j, "merge_size", p.merge_size, source);
  auto mean = json_optional<std::vector<float>>(j, "image_mean", {0.5f, 0.5f, 0.5f}, source);
  auto std_ = json_optional<std::vector<float>>(j, "image_std", {0.5f, 0.5f, 0.5f}, source);
  if (mean.size() != 3 || std_.size() != 3) throw Error(source + ": image_mean/image_std need 3 values");
  for (int i = 0; i < 3; ++i) {
    if (std_[i] == 0.0f) throw Error(source + ": image_std has a zero");
    p.image_mean[i] = mean[i];
    p.image_std[i] = std_[i];
  }
  p.rescale_factor = json_optional<double>(j, "rescale_factor", p.rescale_factor, source);
  p.do_resize = json_optional<bool>(j, "do_resize", true, source);
  p.do_rescale = json_optional<bool>(j, "do_rescale", true, source);
  p.do_normalize = json_optional<bool>(j, "do_normalize", true, source);
  if (p.min_pixels <= 0 || p.max_pixels < p.min_pixels)
    throw Error(source + ": pixel bounds must satisfy 0 < min_pixels <= max_pixels");
  return p;
}

PreprocessorConfig load_preprocessor_config(const std::string& path) {
  if (!file_exists(path)) return PreprocessorConfig{};
  return parse_preprocessor_config(load_json_file(path), path);
}

}  // namespace qwen3vl
