// Every tensor a Qwen3-VL checkpoint holds, with its Hugging Face name, the
// shape the config implies, its kind and weight class — the one list the
// decoder and vision loaders, `quantize`, the load-time converter,
// make-random-model and the ONNX exporter all read.
//
// Grouped as the model is built (per decoder layer, per vision block, per
// merger) so a consumer can walk it layer by layer; all() flattens it in
// checkpoint order. Tensors the config switches off (attention biases without
// `attention_bias`, lm_head with tied embeddings) are absent, so a listed
// tensor is a required one.
#pragma once
#include <optional>
#include <vector>

#include "qwen3vl/model/model_config.h"
#include "qwen3vl/weights/tensor_spec.h"

namespace qwen3vl {

// SwiGLU MLP of a dense decoder layer: down(silu(gate(x)) * up(x)).
struct DenseMlpSpec {
  LinearSpec gate_proj, up_proj, down_proj;
  void append_to(std::vector<TensorSpec>& out) const;
};

// Sparse Mixture-of-Experts MLP of a qwen3_vl_moe layer (model/moe_mlp.h):
// the router [experts, hidden] (never converted: routing stays that of the
// float32 path) and the experts' fused SwiGLU weights, gate_up_proj
// [experts, hidden, 2 * moe_intermediate] (gate columns, then up) and
// down_proj [experts, moe_intermediate, hidden], both TensorKind::Experts.
struct MoeMlpSpec {
  TensorSpec router, gate_up_proj, down_proj;
  void append_to(std::vector<TensorSpec>& out) const;
};

struct TextLayerSpec {
  NormSpec input_norm;                       // RMSNorm before attention
  LinearSpec q_proj, k_proj, v_proj, o_proj;  // biases present iff attention_bias
  NormSpec q_norm, k_norm;                   // per-head RMSNorm of queries and keys
  NormSpec post_attention_norm;              // RMSNorm before the MLP
  std::optional<DenseMlpSpec> mlp;           // set for dense layers
  std::optional<MoeMlpSpec> moe;             // set for MoE layers (TextConfig::is_moe_layer)
  void append_to(std::vector<TensorSpec>& out) const;
  std::vector<TensorSpec> all() const;
};

struct TextModelSpec {
  TensorSpec embed_tokens;                // [vocab, hidden]
  std::vector<TextLayerSpec> layers;
  NormSpec norm;                          // final RMSNorm
  std::optional<TensorSpec> lm_head;      // [vocab, hidden]; absent when tied to embed_tokens
  std::vector<TensorSpec> all() const;
};

struct VisionBlockSpec {
  NormSpec norm1, norm2;           // LayerNorms (weight and bias)
  LinearSpec qkv, proj, fc1, fc2;  // attention and GELU MLP, all with biases
  void append_to(std::vector<TensorSpec>& out) const;
};

// LayerNorm, then fc1 -> GELU -> fc2 into the text model's width. The main
// merger normalises each patch (hidden) before grouping merge² patches;
// DeepStack mergers normalise the grouped row (merge² * hidden).
struct PatchMergerSpec {
  NormSpec norm;
  LinearSpec fc1, fc2;
  void append_to(std::vector<TensorSpec>& out) const;
};

struct VisionModelSpec {
  LinearSpec patch_embed;  // Conv3d [hidden, channels, t, patch, patch] with bias
  TensorSpec pos_embed;    // [num_position_embeddings, hidden]
  std::vector<VisionBlockSpec> blocks;
  PatchMergerSpec merger;
  std::vector<PatchMergerSpec> deepstack_mergers;  // one per deepstack_visual_indexes entry
  std::vector<TensorSpec> all() const;
};

struct ModelTensorSpecs {
  TextModelSpec text;
  VisionModelSpec vision;
  std::vector<TensorSpec> all() const;  // text, then vision
};

ModelTensorSpecs qwen3vl_tensor_specs(const ModelConfig& config);

}  // namespace qwen3vl
