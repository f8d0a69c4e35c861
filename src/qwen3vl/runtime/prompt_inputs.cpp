#include "qwen3vl/runtime/prompt_inputs.h"

#include <algorithm>
#include <chrono>

#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

std::vector<float> PromptInputs::pixel_values() const {
  std::vector<float> pixels;
  for (const auto& img : images) pixels.insert(pixels.end(), img.pixel_values.begin(), img.pixel_values.end());
  return pixels;
}

PromptInputs prepare_prompt_inputs(const Model& model, const Json& messages, const GenerateOptions& options,
                                   const std::function<std::string(const std::string&)>& resolve_image) {
  const Model::Impl& m = model.impl();
  const ModelConfig& cfg = m.config;
  PromptInputs p;

  // 1. Messages and template.
  const NormalizedMessages normalized = normalize_messages(messages);
  const std::string prompt = m.chat_template->render(normalized.messages, true, options.template_extra);
  std::vector<int32_t> ids = m.tokenizer->encode(prompt, true);

  // 2. Images: decode, preprocess.
  ImageSizeLimits limits;
  limits.min_tokens = options.image.min_tokens;
  limits.max_tokens = options.image.max_tokens;
  DecodeLimits decode_limits;
  if (options.image.max_input_pixels > 0) decode_limits.max_pixels = options.image.max_input_pixels;
  for (size_t i = 0; i < normalized.images.size(); ++i) {
    auto t = Clock::now();
    RgbImage rgb;
    try {
      rgb = load_image(resolve_image(normalized.images[i].source), decode_limits);
    } catch (const Error& e) {
      throw Error("image " + std::to_string(i + 1) + ": " + e.what());
    }
    p.image_decode_ms += ms_since(t);
    t = Clock::now();
    p.images.push_back(preprocess_image(rgb, m.preprocessor, *m.pool, limits));
    p.preprocess_ms += ms_since(t);
  }

  // 3. Expand each <|image_pad|> to its image's merged-token count.
  const int merge = cfg.vision.spatial_merge_size;
  const int64_t pads = std::count(ids.begin(), ids.end(), cfg.image_token_id);
  if (pads != static_cast<int64_t>(p.images.size()))
    throw Error("the prompt has " + std::to_string(pads) + " <|image_pad|> tokens but " +
                std::to_string(p.images.size()) + " images were given");
  for (const auto& img : p.images) p.grids.push_back({img.grid.t, img.grid.h, img.grid.w});
  size_t next_image = 0;
  for (int32_t id : ids) {
    if (id == cfg.image_token_id) {
      const int64_t n = p.grids[next_image++].merged_tokens(merge);
      for (int64_t k = 0; k < n; ++k) {
        p.image_rows.push_back(static_cast<int32_t>(p.ids.size()));
        p.ids.push_back(id);
      }
    } else {
      p.ids.push_back(id);
    }
  }

  // 4. 3-D rope positions.
  const std::vector<int64_t> ids64(p.ids.begin(), p.ids.end());
  p.rope = compute_rope_index(ids64, p.grids, {}, RopeIndexSpec::from_config(cfg));
  return p;
}

}  // namespace qwen3vl
