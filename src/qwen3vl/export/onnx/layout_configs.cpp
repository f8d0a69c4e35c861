#include "qwen3vl/export/onnx/layout_configs.h"

namespace qwen3vl::onnx_export {

namespace {

Json session_options() { return {{"log_id", "onnxruntime-genai"}, {"provider_options", Json::array()}}; }

Json eos_ids(const LayoutInfo& info) {
  Json eos = Json::array();
  for (int id : info.generation.eos_token_ids) eos.push_back(id);
  return eos;
}

int pad_id(const LayoutInfo& info) {
  if (info.generation.pad_token_id >= 0) return info.generation.pad_token_id;
  return info.generation.eos_token_ids.empty() ? 0 : info.generation.eos_token_ids[0];
}

}  // namespace

Json genai_config(const LayoutInfo& info) {
  const ModelConfig& c = info.model;
  const TextConfig& t = c.text;
  const int levels = static_cast<int>(c.vision.deepstack_visual_indexes.size());
  Json decoder = {{"session_options", session_options()},
                  {"filename", "model.onnx"},
                  {"head_size", t.head_dim},
                  {"hidden_size", t.hidden_size},
                  {"num_attention_heads", t.num_heads},
                  {"num_hidden_layers", t.num_layers},
                  {"num_key_value_heads", t.num_kv_heads}};
  Json decoder_inputs = {{"attention_mask", "attention_mask"},
                         {"position_ids", "position_ids"},
                         {"past_key_names", "past_key_values.%d.key"},
                         {"past_value_names", "past_key_values.%d.value"}};
  const Json decoder_outputs = {{"logits", "logits"},
                                {"present_key_names", "present.%d.key"},
                                {"present_value_names", "present.%d.value"}};
  Json model = {{"bos_token_id", info.generation.bos_token_id >= 0 ? info.generation.bos_token_id : pad_id(info)},
                {"context_length", t.max_position_embeddings},
                {"eos_token_id", eos_ids(info)},
                {"pad_token_id", pad_id(info)},
                {"vocab_size", t.vocab_size}};
  if (info.text_only) {
    model["type"] = "qwen3";
    decoder_inputs["input_ids"] = "input_ids";
  } else {
    model["type"] = "qwen3_vl";
    model["image_token_id"] = c.image_token_id;
    model["video_token_id"] = c.video_token_id;
    model["vision_start_token_id"] = c.vision_start_token_id;
    decoder_inputs["inputs_embeds"] = "inputs_embeds";
    decoder_inputs["deepstack_embeds_names"] = "deepstack_embeds_%d";
    Json layers = Json::array();
    for (int j = 0; j < levels; ++j) layers.push_back(j);
    decoder["deepstack_layers"] = layers;
    model["embedding"] = {{"filename", "embedding.onnx"},
                          {"inputs",
                           {{"input_ids", "input_ids"},
                            {"image_features", "image_features"},
                            {"deepstack_features_names", "deepstack_features_%d"}}},
                          {"outputs", {{"inputs_embeds", "inputs_embeds"}, {"deepstack_embeds_names", "deepstack_embeds_%d"}}},
                          {"session_options", session_options()}};
    model["vision"] = {{"filename", "vision.onnx"},
                       {"spatial_merge_size", c.vision.spatial_merge_size},
                       {"num_deepstack_levels", levels},
                       {"inputs", {{"pixel_values", "pixel_values"}, {"image_grid_thw", "image_grid_thw"}}},
                       {"outputs",
                        {{"image_features", "image_features"}, {"deepstack_features_names", "deepstack_features_%d"}}},
                       {"session_options", session_options()}};
  }
  decoder["inputs"] = decoder_inputs;
  decoder["outputs"] = decoder_outputs;
  model["decoder"] = decoder;
  const Json search = {{"diversity_penalty", 0.0}, {"do_sample", info.generation.do_sample},
                       {"early_stopping", true},   {"length_penalty", 1.0},
                       {"max_length", std::min<int64_t>(t.max_position_embeddings, 32768)},
                       {"min_length", 0},          {"no_repeat_ngram_size", 0},
                       {"num_beams", 1},           {"num_return_sequences", 1},
                       {"past_present_share_buffer", false},
                       {"repetition_penalty", info.generation.repetition_penalty},
                       {"temperature", info.generation.temperature},
                       {"top_k", info.generation.top_k > 0 ? info.generation.top_k : 1},
                       {"top_p", info.generation.top_p}};
  return {{"model", model}, {"search", search}};
}

Json genai_processor_config(const LayoutInfo& info) {
  const PreprocessorConfig& p = info.preprocessor;
  const int factor = p.patch_size * p.merge_size;
  auto op = [](const char* name, const char* type, Json attrs) {
    Json o = {{"name", name}, {"type", type}};
    if (!attrs.empty()) o["attrs"] = std::move(attrs);
    return Json{{"operation", o}};
  };
  Json transforms = Json::array();
  transforms.push_back(op("decode_image", "DecodeImage", {{"color_space", "RGB"}}));
  transforms.push_back(op("convert_to_rgb", "ConvertRGB", Json::object()));
  transforms.push_back(op("resize", "Resize",
                          {{"smart_resize", 1},
                           {"factor", factor},
                           {"min_pixels", p.min_pixels},
                           {"max_pixels", p.max_pixels},
                           {"patch_size", p.patch_size},
                           {"merge_size", p.merge_size},
                           {"interpolation", "CUBIC"}}));
  transforms.push_back(op("rescale", "Rescale", {{"rescale_factor", p.rescale_factor}}));
  transforms.push_back(op("normalize", "Normalize", {{"mean", p.image_mean}, {"std", p.image_std}, {"qwen2_5_vl", 1}}));
  transforms.push_back(op("patch_image", "PatchImage",
                          {{"patch_size", p.patch_size},
                           {"temporal_patch_size", p.temporal_patch_size},
                           {"merge_size", p.merge_size}}));
  return {{"processor", {{"name", "qwen3_vl_image_processor"}, {"transforms", transforms}}}};
}

Json transformers_js_config(const LayoutInfo& info, const std::map<std::string, bool>& external) {
  Json config;
  if (info.text_only) {
    // The language model alone is a Qwen3 causal LM (M-RoPE with equal
    // positions is plain RoPE).
    config = info.hf_config.contains("text_config") ? info.hf_config["text_config"] : Json::object();
    config["model_type"] = "qwen3";
    config["architectures"] = {"Qwen3ForCausalLM"};
    config["tie_word_embeddings"] = info.model.tie_word_embeddings;
    config["head_dim"] = info.model.text.head_dim;
    config.erase("rope_scaling");
    config.erase("rope_parameters");
    config["rope_theta"] = info.model.text.rope_theta;
  } else {
    config = info.hf_config;
    // Our decoder takes [H * (1 + levels)]-wide embeddings: DeepStack level j
    // in columns H*(1+j) .. H*(2+j), zero on text rows.
    config["deepstack_embedding_columns"] = static_cast<int>(info.model.vision.deepstack_visual_indexes.size());
  }
  Json ext = Json::object();
  for (const auto& [file, uses] : external)
    if (uses) ext[file] = 1;
  Json tjs = Json::object();
  if (!ext.empty()) tjs["use_external_data_format"] = ext;
  config["transformers.js_config"] = tjs;
  return config;
}

}  // namespace qwen3vl::onnx_export
