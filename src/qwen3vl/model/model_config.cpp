#include "qwen3vl/model/model_config.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json_fields.h"

namespace qwen3vl {

namespace {

void positive(int v, const char* key, const std::string& where) {
  if (v <= 0) throw Error(where + ": \"" + key + "\" must be positive, got " + std::to_string(v));
}

TextConfig parse_text(const Json& t, const std::string& where) {
  TextConfig c;
  c.hidden_size = json_required<int>(t, "hidden_size", where);
  c.intermediate_size = json_required<int>(t, "intermediate_size", where);
  c.num_layers = json_required<int>(t, "num_hidden_layers", where);
  c.num_heads = json_required<int>(t, "num_attention_heads", where);
  c.num_kv_heads = json_optional<int>(t, "num_key_value_heads", c.num_heads, where);
  c.head_dim = json_optional<int>(t, "head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0, where);
  c.vocab_size = json_required<int>(t, "vocab_size", where);
  c.rms_norm_eps = json_optional<float>(t, "rms_norm_eps", 1e-6f, where);
  c.max_position_embeddings = json_optional<int64_t>(t, "max_position_embeddings", 262144, where);
  c.attention_bias = json_optional<bool>(t, "attention_bias", false, where);
  for (auto [v, k] : {std::pair{c.hidden_size, "hidden_size"}, {c.intermediate_size, "intermediate_size"},
                      {c.num_layers, "num_hidden_layers"}, {c.num_heads, "num_attention_heads"},
                      {c.num_kv_heads, "num_key_value_heads"}, {c.head_dim, "head_dim"},
                      {c.vocab_size, "vocab_size"}})
    positive(v, k, where);
  if (c.num_heads % c.num_kv_heads != 0)
    throw Error(where + ": num_attention_heads (" + std::to_string(c.num_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  if (c.head_dim % 2 != 0) throw Error(where + ": head_dim must be even");

  // Newer transformers write "rope_parameters" (with rope_theta inside);
  // older ones "rope_scaling" plus a top-level "rope_theta".
  Json rope = Json::object();
  if (t.contains("rope_parameters") && t["rope_parameters"].is_object()) rope = t["rope_parameters"];
  else if (t.contains("rope_scaling") && t["rope_scaling"].is_object()) rope = t["rope_scaling"];
  c.rope_theta = json_optional<double>(t, "rope_theta", json_optional<double>(rope, "rope_theta", 5e6, where), where);
  if (rope.contains("rope_theta")) c.rope_theta = json_optional<double>(rope, "rope_theta", c.rope_theta, where);
  const std::string rope_type = json_optional<std::string>(rope, "rope_type", json_optional<std::string>(rope, "type", "default", where), where);
  if (rope_type != "default" && rope_type != "mrope")
    throw Error(where + ": unsupported rope_type \"" + rope_type + "\" (only default M-RoPE is implemented)");
  c.mrope_interleaved = json_optional<bool>(rope, "mrope_interleaved", true, where);
  if (!c.mrope_interleaved)
    throw Error(where + ": mrope_interleaved=false is Qwen2-VL style rope, not supported for qwen3_vl");
  std::vector<int> section = json_optional<std::vector<int>>(rope, "mrope_section", {}, where);
  if (section.empty()) {
    const int half = c.head_dim / 2;
    section = {half - 2 * (half * 5 / 16), half * 5 / 16, half * 5 / 16};
  }
  if (section.size() != 3) throw Error(where + ": mrope_section must have 3 entries");
  if (section[0] + section[1] + section[2] != c.head_dim / 2)
    throw Error(where + ": mrope_section sums to " + std::to_string(section[0] + section[1] + section[2]) +
                ", expected head_dim/2 = " + std::to_string(c.head_dim / 2));
  c.mrope_section = {section[0], section[1], section[2]};
  return c;
}

// The Mixture-of-Experts fields of a qwen3_vl_moe text_config.
void parse_moe(const Json& t, const std::string& where, TextConfig& c) {
  c.num_experts = json_required<int>(t, "num_experts", where);
  c.num_experts_per_tok = json_required<int>(t, "num_experts_per_tok", where);
  c.moe_intermediate_size = json_required<int>(t, "moe_intermediate_size", where);
  c.decoder_sparse_step = json_optional<int>(t, "decoder_sparse_step", 1, where);
  c.mlp_only_layers = json_optional<std::vector<int>>(t, "mlp_only_layers", {}, where);
  c.norm_topk_prob = json_optional<bool>(t, "norm_topk_prob", true, where);
  for (auto [v, k] : {std::pair{c.num_experts, "num_experts"}, {c.num_experts_per_tok, "num_experts_per_tok"},
                      {c.moe_intermediate_size, "moe_intermediate_size"},
                      {c.decoder_sparse_step, "decoder_sparse_step"}})
    positive(v, k, where);
  if (c.num_experts_per_tok > c.num_experts)
    throw Error(where + ": num_experts_per_tok (" + std::to_string(c.num_experts_per_tok) +
                ") exceeds num_experts (" + std::to_string(c.num_experts) + ")");
  for (int layer : c.mlp_only_layers)
    if (layer < 0 || layer >= c.num_layers)
      throw Error(where + ": mlp_only_layers entry " + std::to_string(layer) + " is outside 0.." +
                  std::to_string(c.num_layers - 1));
}

VisionConfig parse_vision(const Json& v, const std::string& where) {
  VisionConfig c;
  c.depth = json_required<int>(v, "depth", where);
  c.hidden_size = json_required<int>(v, "hidden_size", where);
  c.intermediate_size = json_required<int>(v, "intermediate_size", where);
  c.num_heads = json_required<int>(v, "num_heads", where);
  c.in_channels = json_optional<int>(v, "in_channels", 3, where);
  c.patch_size = json_optional<int>(v, "patch_size", 16, where);
  c.temporal_patch_size = json_optional<int>(v, "temporal_patch_size", 2, where);
  c.spatial_merge_size = json_optional<int>(v, "spatial_merge_size", 2, where);
  c.out_hidden_size = json_required<int>(v, "out_hidden_size", where);
  c.num_position_embeddings = json_required<int>(v, "num_position_embeddings", where);
  c.deepstack_visual_indexes = json_optional<std::vector<int>>(v, "deepstack_visual_indexes", {}, where);
  c.hidden_act = json_optional<std::string>(v, "hidden_act", "gelu_pytorch_tanh", where);
  for (auto [val, k] : {std::pair{c.depth, "depth"}, {c.hidden_size, "hidden_size"},
                        {c.intermediate_size, "intermediate_size"}, {c.num_heads, "num_heads"},
                        {c.in_channels, "in_channels"}, {c.patch_size, "patch_size"},
                        {c.temporal_patch_size, "temporal_patch_size"},
                        {c.spatial_merge_size, "spatial_merge_size"}, {c.out_hidden_size, "out_hidden_size"},
                        {c.num_position_embeddings, "num_position_embeddings"}})
    positive(val, k, where);
  if (c.hidden_size % c.num_heads != 0) throw Error(where + ": hidden_size is not a multiple of num_heads");
  if ((c.hidden_size / c.num_heads) % 4 != 0) throw Error(where + ": vision head_dim must be a multiple of 4");
  int side = 0;
  while ((side + 1) * (side + 1) <= c.num_position_embeddings) ++side;
  if (side * side != c.num_position_embeddings)
    throw Error(where + ": num_position_embeddings (" + std::to_string(c.num_position_embeddings) +
                ") is not a square");
  for (int idx : c.deepstack_visual_indexes)
    if (idx < 0 || idx >= c.depth)
      throw Error(where + ": deepstack_visual_indexes entry " + std::to_string(idx) + " is outside 0.." +
                  std::to_string(c.depth - 1));
  if (c.hidden_act != "gelu_pytorch_tanh")
    throw Error(where + ": unsupported vision hidden_act \"" + c.hidden_act + "\"");
  return c;
}

}  // namespace

ModelConfig parse_model_config(const Json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  ModelConfig c;
  c.model_type = json_optional<std::string>(j, "model_type", "", source);
  if (c.model_type != "qwen3_vl" && c.model_type != "qwen3_vl_moe")
    throw Error(source + ": unsupported model_type \"" + c.model_type +
                "\" (qwen3vl runs Qwen3-VL checkpoints, model_type \"qwen3_vl\" or \"qwen3_vl_moe\")");
  if (!j.contains("text_config") || !j["text_config"].is_object())
    throw Error(source + ": missing \"text_config\"");
  if (!j.contains("vision_config") || !j["vision_config"].is_object())
    throw Error(source + ": missing \"vision_config\"");
  c.text = parse_text(j["text_config"], source + " text_config");
  if (c.model_type == "qwen3_vl_moe") parse_moe(j["text_config"], source + " text_config", c.text);
  c.vision = parse_vision(j["vision_config"], source + " vision_config");
  // The top-level flag wins; some exports only set it inside text_config.
  bool tie = json_optional<bool>(j["text_config"], "tie_word_embeddings", true, source);
  c.tie_word_embeddings = json_optional<bool>(j, "tie_word_embeddings", tie, source);
  c.image_token_id = json_optional<int>(j, "image_token_id", 151655, source);
  c.video_token_id = json_optional<int>(j, "video_token_id", 151656, source);
  c.vision_start_token_id = json_optional<int>(j, "vision_start_token_id", 151652, source);
  c.vision_end_token_id = json_optional<int>(j, "vision_end_token_id", 151653, source);
  if (c.vision.out_hidden_size != c.text.hidden_size)
    throw Error(source + ": vision out_hidden_size (" + std::to_string(c.vision.out_hidden_size) +
                ") differs from text hidden_size (" + std::to_string(c.text.hidden_size) + ")");
  return c;
}

bool TextConfig::is_moe_layer(int layer) const {
  if (num_experts <= 0) return false;
  for (int dense : mlp_only_layers)
    if (dense == layer) return false;
  return (layer + 1) % decoder_sparse_step == 0;
}

ModelConfig load_model_config(const std::string& path) { return parse_model_config(load_json_file(path), path); }

Json model_config_to_json(const ModelConfig& c) {
  Json text = {{"hidden_size", c.text.hidden_size},
               {"intermediate_size", c.text.intermediate_size},
               {"num_hidden_layers", c.text.num_layers},
               {"num_attention_heads", c.text.num_heads},
               {"num_key_value_heads", c.text.num_kv_heads},
               {"head_dim", c.text.head_dim},
               {"vocab_size", c.text.vocab_size},
               {"rms_norm_eps", c.text.rms_norm_eps},
               {"rope_theta", c.text.rope_theta},
               {"rope_scaling",
                {{"rope_type", "default"},
                 {"mrope_interleaved", c.text.mrope_interleaved},
                 {"mrope_section", c.text.mrope_section}}},
               {"max_position_embeddings", c.text.max_position_embeddings},
               {"attention_bias", c.text.attention_bias},
               {"hidden_act", "silu"},
               {"model_type", c.text.is_moe() ? "qwen3_vl_moe_text" : "qwen3_vl_text"},
               {"bos_token_id", 151643},
               {"eos_token_id", 151645},
               {"tie_word_embeddings", c.tie_word_embeddings},
               {"dtype", "bfloat16"}};
  if (c.text.is_moe()) {
    text["num_experts"] = c.text.num_experts;
    text["num_experts_per_tok"] = c.text.num_experts_per_tok;
    text["moe_intermediate_size"] = c.text.moe_intermediate_size;
    text["decoder_sparse_step"] = c.text.decoder_sparse_step;
    text["mlp_only_layers"] = c.text.mlp_only_layers;
    text["norm_topk_prob"] = c.text.norm_topk_prob;
  }
  Json vision = {{"depth", c.vision.depth},
                 {"hidden_size", c.vision.hidden_size},
                 {"intermediate_size", c.vision.intermediate_size},
                 {"num_heads", c.vision.num_heads},
                 {"in_channels", c.vision.in_channels},
                 {"patch_size", c.vision.patch_size},
                 {"temporal_patch_size", c.vision.temporal_patch_size},
                 {"spatial_merge_size", c.vision.spatial_merge_size},
                 {"out_hidden_size", c.vision.out_hidden_size},
                 {"num_position_embeddings", c.vision.num_position_embeddings},
                 {"deepstack_visual_indexes", c.vision.deepstack_visual_indexes},
                 {"hidden_act", c.vision.hidden_act},
                 {"model_type", c.model_type}};
  return {{"architectures", {c.text.is_moe() ? "Qwen3VLMoeForConditionalGeneration"
                                              : "Qwen3VLForConditionalGeneration"}},
          {"model_type", c.model_type},
          {"text_config", text},
          {"vision_config", vision},
          {"tie_word_embeddings", c.tie_word_embeddings},
          {"image_token_id", c.image_token_id},
          {"video_token_id", c.video_token_id},
          {"vision_start_token_id", c.vision_start_token_id},
          {"vision_end_token_id", c.vision_end_token_id}};
}

}  // namespace qwen3vl
