// The parts of config.json the model uses, parsed and validated once.
// (generation_config.json: runtime/generation_config.h; preprocessor_config.json:
// image/preprocessor_config.h.)
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

struct TextConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 5e6;
  std::array<int, 3> mrope_section{0, 0, 0};  // (t, h, w) frequency pairs; sums to head_dim/2
  bool mrope_interleaved = true;
  int64_t max_position_embeddings = 0;
  bool attention_bias = false;

  // Mixture of Experts (model_type qwen3_vl_moe; num_experts 0 = dense). A
  // layer is MoE unless listed in mlp_only_layers, when (i + 1) is a multiple
  // of decoder_sparse_step; its MLP routes each token to num_experts_per_tok
  // of num_experts SwiGLU experts of width moe_intermediate_size. The other
  // layers keep a dense MLP of intermediate_size.
  int num_experts = 0;
  int num_experts_per_tok = 0;
  int moe_intermediate_size = 0;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;
  // Read and kept for the config's round trip; the reference renormalises
  // the top-k weights whatever it says.
  bool norm_topk_prob = true;

  bool is_moe() const { return num_experts > 0; }
  bool is_moe_layer(int layer) const;
};

struct VisionConfig {
  int depth = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_heads = 0;
  int in_channels = 3;
  int patch_size = 16;
  int temporal_patch_size = 2;
  int spatial_merge_size = 2;
  int out_hidden_size = 0;
  int num_position_embeddings = 0;
  std::vector<int> deepstack_visual_indexes;
  std::string hidden_act = "gelu_pytorch_tanh";
  int head_dim() const { return hidden_size / num_heads; }
  int patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
};

struct ModelConfig {
  std::string model_type;
  TextConfig text;
  VisionConfig vision;
  bool tie_word_embeddings = true;
  int image_token_id = 151655;
  int video_token_id = 151656;
  int vision_start_token_id = 151652;
  int vision_end_token_id = 151653;
};

// Parses config.json contents; `source` names the file in errors. Throws Error
// for an unsupported model_type or missing/invalid fields.
ModelConfig parse_model_config(const Json& j, const std::string& source);
ModelConfig load_model_config(const std::string& path);
Json model_config_to_json(const ModelConfig& c);

// Throws Error unless 0 < context_length <= max_position_embeddings (positions
// beyond it were never trained). `source` names the config.
void check_context_length(const ModelConfig& config, int64_t context_length, const std::string& source);

}  // namespace qwen3vl
