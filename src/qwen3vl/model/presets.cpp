#include "qwen3vl/model/presets.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

struct Moe {
  int experts = 0, per_token = 0, intermediate = 0;
  std::vector<int> mlp_only_layers;
};

struct Shape {
  int hidden, intermediate, layers, heads;
  bool tied;
  int v_depth, v_hidden, v_intermediate, v_heads;
  std::vector<int> deepstack;
  int kv_heads = 8, head_dim = 128;
  std::vector<int> mrope_section = {24, 20, 20};
  Moe moe;  // experts == 0: a dense model
};

Shape preset_shape(const std::string& p) {
  if (p == "2b") return {2048, 6144, 28, 16, true, 24, 1024, 4096, 16, {5, 11, 17}, 8, 128, {24, 20, 20}, {}};
  if (p == "4b") return {2560, 9728, 36, 32, true, 24, 1024, 4096, 16, {5, 11, 17}, 8, 128, {24, 20, 20}, {}};
  if (p == "8b") return {4096, 12288, 36, 32, false, 27, 1152, 4304, 16, {8, 16, 24}, 8, 128, {24, 20, 20}, {}};
  if (p == "30b-a3b") return {2048, 6144, 48, 32, false, 27, 1152, 4304, 16, {8, 16, 24}, 4, 128, {24, 20, 20},
                              {128, 8, 768, {}}};
  // A small Mixture-of-Experts model for tests: every part of the 30B-A3B
  // (experts, a dense layer, untied head, DeepStack) at sizes that run in
  // milliseconds; widths are multiples of the quantization group.
  if (p == "tiny-moe") return {64, 128, 3, 4, false, 2, 64, 128, 2, {0, 1}, 2, 32, {6, 5, 5}, {16, 4, 32, {1}}};
  throw Error("unknown preset '" + p + "' (choose 2b, 4b, 8b, 30b-a3b or tiny-moe)");
}

}  // namespace

std::vector<std::string> preset_names() { return {"2b", "4b", "8b", "30b-a3b", "tiny-moe"}; }

Json preset_config_json(const std::string& preset) {
  const Shape s = preset_shape(preset);
  const bool moe = s.moe.experts > 0;
  Json text = {{"attention_bias", false},
               {"attention_dropout", 0.0},
               {"bos_token_id", 151643},
               {"dtype", "bfloat16"},
               {"eos_token_id", 151645},
               {"head_dim", s.head_dim},
               {"hidden_act", "silu"},
               {"hidden_size", s.hidden},
               {"initializer_range", 0.02},
               {"intermediate_size", s.intermediate},
               {"max_position_embeddings", 262144},
               {"model_type", moe ? "qwen3_vl_moe_text" : "qwen3_vl_text"},
               {"num_attention_heads", s.heads},
               {"num_hidden_layers", s.layers},
               {"num_key_value_heads", s.kv_heads},
               {"rms_norm_eps", 1e-6},
               {"rope_scaling",
                {{"mrope_interleaved", true}, {"mrope_section", s.mrope_section}, {"rope_type", "default"}}},
               {"rope_theta", 5000000},
               {"tie_word_embeddings", s.tied},
               {"use_cache", true},
               {"vocab_size", 151936}};
  if (moe) {
    text["num_experts"] = s.moe.experts;
    text["num_experts_per_tok"] = s.moe.per_token;
    text["moe_intermediate_size"] = s.moe.intermediate;
    text["decoder_sparse_step"] = 1;
    text["mlp_only_layers"] = s.moe.mlp_only_layers;
    text["norm_topk_prob"] = true;
  }
  const std::string model_type = moe ? "qwen3_vl_moe" : "qwen3_vl";
  Json vision = {{"deepstack_visual_indexes", s.deepstack},
                 {"depth", s.v_depth},
                 {"hidden_act", "gelu_pytorch_tanh"},
                 {"hidden_size", s.v_hidden},
                 {"in_channels", 3},
                 {"initializer_range", 0.02},
                 {"intermediate_size", s.v_intermediate},
                 {"model_type", model_type},
                 {"num_heads", s.v_heads},
                 {"num_position_embeddings", 2304},
                 {"out_hidden_size", s.hidden},
                 {"patch_size", 16},
                 {"spatial_merge_size", 2},
                 {"temporal_patch_size", 2}};
  return {{"architectures", {moe ? "Qwen3VLMoeForConditionalGeneration" : "Qwen3VLForConditionalGeneration"}},
          {"image_token_id", 151655},
          {"model_type", model_type},
          {"text_config", text},
          {"tie_word_embeddings", s.tied},
          {"transformers_version", "4.57.0"},
          {"video_token_id", 151656},
          {"vision_config", vision},
          {"vision_end_token_id", 151653},
          {"vision_start_token_id", 151652}};
}

}  // namespace qwen3vl
