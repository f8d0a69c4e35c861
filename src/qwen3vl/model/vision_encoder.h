// The Qwen3-VL vision tower in float32: patch embedding (a Conv3d whose
// stride equals its kernel, i.e. one matmul over 1536-wide pixel rows) plus
// the interpolated learned position embedding, `depth` pre-norm transformer
// blocks with 2-D rotary and attention restricted to each image, then the
// 2x2 patch merger into the text model's width and the DeepStack mergers on
// chosen block outputs.
//
// Weights kept in their stored format are zero-copy views into the
// checkpoint's mapping, so the Checkpoint must outlive the encoder.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/model/forward_context.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/model/vision_inputs.h"

namespace qwen3vl {

struct VisionEncoderOptions {
  // Formats of the tower's linear weights (WeightClass::Vision); the default
  // keeps the checkpoint's own (zero-copy views). Quantized formats need
  // `weights.convert`; with Q8/Q4 the tower is approximate anyway, so its
  // attention may round its products to bf16 (AttentionShape::inputs_format).
  WeightOptions weights;
};

struct VisionEncoderOutput {
  int64_t num_tokens = 0;  // merged tokens: total patches / merge²
  int out_hidden = 0;
  std::vector<float> image_embeds;            // [num_tokens, out_hidden]
  std::vector<std::vector<float>> deepstack;  // one [num_tokens, out_hidden] per deepstack index
};

class VisionEncoder {
 public:
  // Throws Error naming any missing or misshapen tensor.
  VisionEncoder(const ModelConfig& config, const WeightSource& weights,
                VisionEncoderOptions options = {});
  ~VisionEncoder();
  VisionEncoder(VisionEncoder&&) noexcept;
  VisionEncoder& operator=(VisionEncoder&&) noexcept;

  const VisionConfig& config() const { return config_; }
  // The host-computed inputs for these grids (see vision_inputs.h).
  VisionInputs prepare(const std::vector<VisionGrid>& grids) const;

  // pixel_values: [inputs.num_patches, patch_dim] rows in merge-block order.
  // Captures vision_patch_embed, vision_pos_embeds and vision_block{i}_out
  // ([patches, hidden]) when ctx.capture is set.
  VisionEncoderOutput encode(const float* pixel_values, const VisionInputs& inputs, const ForwardContext& ctx) const;
  // Starts after the patch embedding (before adding position embeddings):
  // patch_embeds is [inputs.num_patches, hidden].
  VisionEncoderOutput encode_patch_embeddings(const float* patch_embeds, const VisionInputs& inputs,
                                              const ForwardContext& ctx) const;

 private:
  struct Weights;
  VisionConfig config_;
  std::unique_ptr<Weights> w_;
};

}  // namespace qwen3vl
