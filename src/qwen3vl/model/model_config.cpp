#include "qwen3vl/model/model_config.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {

namespace {

template <typename T>
T required(const Json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) throw Error(where + ": missing \"" + key + "\"");
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": \"" + key + "\" has the wrong type (" + j[key].dump() + ")");
  }
}

template <typename T>
T optional(const Json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": \"" + key + "\" has the wrong type (" + j[key].dump() + ")");
  }
}

void positive(int v, const char* key, const std::string& where) {
  if (v <= 0) throw Error(where + ": \"" + key + "\" must be positive, got " + std::to_string(v));
}

TextConfig parse_text(const Json& t, const std::string& where) {
  TextConfig c;
  c.hidden_size = required<int>(t, "hidden_size", where);
  c.intermediate_size = required<int>(t, "intermediate_size", where);
  c.num_layers = required<int>(t, "num_hidden_layers", where);
  c.num_heads = required<int>(t, "num_attention_heads", where);
  c.num_kv_heads = optional<int>(t, "num_key_value_heads", c.num_heads, where);
  c.head_dim = optional<int>(t, "head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0, where);
  c.vocab_size = required<int>(t, "vocab_size", where);
  c.rms_norm_eps = optional<float>(t, "rms_norm_eps", 1e-6f, where);
  c.max_position_embeddings = optional<int64_t>(t, "max_position_embeddings", 262144, where);
  c.attention_bias = optional<bool>(t, "attention_bias", false, where);
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
  c.rope_theta = optional<double>(t, "rope_theta", optional<double>(rope, "rope_theta", 5e6, where), where);
  if (rope.contains("rope_theta")) c.rope_theta = optional<double>(rope, "rope_theta", c.rope_theta, where);
  const std::string rope_type = optional<std::string>(rope, "rope_type", optional<std::string>(rope, "type", "default", where), where);
  if (rope_type != "default" && rope_type != "mrope")
    throw Error(where + ": unsupported rope_type \"" + rope_type + "\" (only default M-RoPE is implemented)");
  c.mrope_interleaved = optional<bool>(rope, "mrope_interleaved", true, where);
  if (!c.mrope_interleaved)
    throw Error(where + ": mrope_interleaved=false is Qwen2-VL style rope, not supported for qwen3_vl");
  std::vector<int> section = optional<std::vector<int>>(rope, "mrope_section", {}, where);
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
  c.num_experts = required<int>(t, "num_experts", where);
  c.num_experts_per_tok = required<int>(t, "num_experts_per_tok", where);
  c.moe_intermediate_size = required<int>(t, "moe_intermediate_size", where);
  c.decoder_sparse_step = optional<int>(t, "decoder_sparse_step", 1, where);
  c.mlp_only_layers = optional<std::vector<int>>(t, "mlp_only_layers", {}, where);
  c.norm_topk_prob = optional<bool>(t, "norm_topk_prob", true, where);
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
  c.depth = required<int>(v, "depth", where);
  c.hidden_size = required<int>(v, "hidden_size", where);
  c.intermediate_size = required<int>(v, "intermediate_size", where);
  c.num_heads = required<int>(v, "num_heads", where);
  c.in_channels = optional<int>(v, "in_channels", 3, where);
  c.patch_size = optional<int>(v, "patch_size", 16, where);
  c.temporal_patch_size = optional<int>(v, "temporal_patch_size", 2, where);
  c.spatial_merge_size = optional<int>(v, "spatial_merge_size", 2, where);
  c.out_hidden_size = required<int>(v, "out_hidden_size", where);
  c.num_position_embeddings = required<int>(v, "num_position_embeddings", where);
  c.deepstack_visual_indexes = optional<std::vector<int>>(v, "deepstack_visual_indexes", {}, where);
  c.hidden_act = optional<std::string>(v, "hidden_act", "gelu_pytorch_tanh", where);
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
  c.model_type = optional<std::string>(j, "model_type", "", source);
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
  bool tie = optional<bool>(j["text_config"], "tie_word_embeddings", true, source);
  c.tie_word_embeddings = optional<bool>(j, "tie_word_embeddings", tie, source);
  c.image_token_id = optional<int>(j, "image_token_id", 151655, source);
  c.video_token_id = optional<int>(j, "video_token_id", 151656, source);
  c.vision_start_token_id = optional<int>(j, "vision_start_token_id", 151652, source);
  c.vision_end_token_id = optional<int>(j, "vision_end_token_id", 151653, source);
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

GenerationConfig parse_generation_config(const Json& j, const std::string& source) {
  GenerationConfig g;
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  if (j.contains("eos_token_id")) {
    if (j["eos_token_id"].is_array()) g.eos_token_ids = j["eos_token_id"].get<std::vector<int>>();
    else if (j["eos_token_id"].is_number_integer()) g.eos_token_ids = {j["eos_token_id"].get<int>()};
  }
  g.bos_token_id = optional<int>(j, "bos_token_id", -1, source);
  g.pad_token_id = optional<int>(j, "pad_token_id", -1, source);
  g.do_sample = optional<bool>(j, "do_sample", false, source);
  g.temperature = optional<float>(j, "temperature", 1.0f, source);
  g.top_k = optional<int>(j, "top_k", 0, source);
  g.top_p = optional<float>(j, "top_p", 1.0f, source);
  g.min_p = optional<float>(j, "min_p", 0.0f, source);
  g.repetition_penalty = optional<float>(j, "repetition_penalty", 1.0f, source);
  g.presence_penalty = optional<float>(j, "presence_penalty", 0.0f, source);
  return g;
}

GenerationConfig load_generation_config(const std::string& path) {
  if (!file_exists(path)) {
    GenerationConfig g;
    g.eos_token_ids = {151645, 151643};
    return g;
  }
  return parse_generation_config(load_json_file(path), path);
}

PreprocessorConfig parse_preprocessor_config(const Json& j, const std::string& source) {
  PreprocessorConfig p;
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  // Qwen2-VL processors store the pixel bounds either in size{} or flat.
  if (j.contains("size") && j["size"].is_object()) {
    p.min_pixels = optional<int64_t>(j["size"], "shortest_edge", p.min_pixels, source);
    p.max_pixels = optional<int64_t>(j["size"], "longest_edge", p.max_pixels, source);
  }
  p.min_pixels = optional<int64_t>(j, "min_pixels", p.min_pixels, source);
  p.max_pixels = optional<int64_t>(j, "max_pixels", p.max_pixels, source);
  p.patch_size = optional<int>(j, "patch_size", p.patch_size, source);
  p.temporal_patch_size = optional<int>(j, "temporal_patch_size", p.temporal_patch_size, source);
  p.merge_size = optional<int>(j, "merge_size", p.merge_size, source);
  auto mean = optional<std::vector<float>>(j, "image_mean", {0.5f, 0.5f, 0.5f}, source);
  auto std_ = optional<std::vector<float>>(j, "image_std", {0.5f, 0.5f, 0.5f}, source);
  if (mean.size() != 3 || std_.size() != 3) throw Error(source + ": image_mean/image_std need 3 values");
  for (int i = 0; i < 3; ++i) {
    if (std_[i] == 0.0f) throw Error(source + ": image_std has a zero");
    p.image_mean[i] = mean[i];
    p.image_std[i] = std_[i];
  }
  p.rescale_factor = optional<double>(j, "rescale_factor", p.rescale_factor, source);
  p.do_resize = optional<bool>(j, "do_resize", true, source);
  p.do_rescale = optional<bool>(j, "do_rescale", true, source);
  p.do_normalize = optional<bool>(j, "do_normalize", true, source);
  if (p.min_pixels <= 0 || p.max_pixels < p.min_pixels)
    throw Error(source + ": pixel bounds must satisfy 0 < min_pixels <= max_pixels");
  return p;
}

PreprocessorConfig load_preprocessor_config(const std::string& path) {
  if (!file_exists(path)) return PreprocessorConfig{};
  return parse_preprocessor_config(load_json_file(path), path);
}

}  // namespace qwen3vl
