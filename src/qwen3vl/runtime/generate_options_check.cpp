#include "qwen3vl/runtime/generate_options_check.h"

#include <cmath>
#include <string>

#include "qwen3vl/runtime/sampler.h"

namespace qwen3vl {

void validate_generate_options(const GenerateOptions& options) {
  if (options.max_tokens < 0)
    throw Error("max_tokens must not be negative, got " + std::to_string(options.max_tokens));
  // Unset sampling fields come from generation_config.json, checked at load;
  // the set ones are checked with neutral values around them.
  const SamplingOptions& s = options.sampling;
  SamplingParams p;
  p.temperature = s.temperature.value_or(p.temperature);
  p.top_k = s.top_k.value_or(p.top_k);
  p.top_p = s.top_p.value_or(p.top_p);
  p.min_p = s.min_p.value_or(p.min_p);
  p.repetition_penalty = s.repetition_penalty.value_or(p.repetition_penalty);
  p.presence_penalty = s.presence_penalty.value_or(p.presence_penalty);
  p.frequency_penalty = s.frequency_penalty.value_or(p.frequency_penalty);
  check_sampling_params(p);
  for (const std::string& stop : options.stop)
    if (stop.empty()) throw Error("stop strings must not be empty");
  const ImageOptions& image = options.image;
  for (const auto& [value, name] : {std::pair{image.min_tokens, "image min_tokens"},
                                    std::pair{image.max_tokens, "image max_tokens"}})
    if (value < 0 || value > kMaxImageTokensOption)
      throw Error(std::string(name) + " must be between 0 (the preprocessor's default) and " +
                  std::to_string(kMaxImageTokensOption) + ", got " + std::to_string(value));
  if (image.min_tokens > 0 && image.max_tokens > 0 && image.min_tokens > image.max_tokens)
    throw Error("image min_tokens (" + std::to_string(image.min_tokens) + ") exceeds max_tokens (" +
                std::to_string(image.max_tokens) + ")");
  if (image.max_input_pixels < 0)
    throw Error("image max_input_pixels must not be negative, got " + std::to_string(image.max_input_pixels));
  const VideoOptions& video = options.video;
  if (!(video.fps >= 0) || !std::isfinite(video.fps))
    throw Error("video fps must be positive (or 0 for the model's default), got " + std::to_string(video.fps));
  if (video.num_frames < 0)
    throw Error("video num_frames must not be negative, got " + std::to_string(video.num_frames));
  if (video.fps > 0 && video.num_frames > 0) throw Error("video fps and num_frames are mutually exclusive");
  if (video.max_frame_pixels < 0)
    throw Error("video max_frame_pixels must not be negative, got " + std::to_string(video.max_frame_pixels));
  if (!options.template_extra.is_object()) throw Error("template_extra must be a JSON object");
}

}  // namespace qwen3vl
