// The JSON files that tell a runtime how to use an export, per layout:
// onnxruntime-genai's genai_config.json and processor_config.json, and the
// Hugging Face config.json (with transformers.js_config) for transformers.js.
// Fields we add for DeepStack are documented beside them here and in the
// README.
#pragma once
#include <map>
#include <string>

#include "qwen3vl/base/json.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/runtime/generation_config.h"

namespace qwen3vl::onnx_export {

struct LayoutInfo {
  ModelConfig model;
  GenerationConfig generation;
  PreprocessorConfig preprocessor;
  Json hf_config;  // the checkpoint's config.json as read
  bool text_only = false;
};

// genai_config.json. DeepStack fields (ours, absent from other exports):
//   model.vision.outputs.deepstack_features_names  "deepstack_features_%d"
//   model.embedding.inputs.deepstack_features_names "deepstack_features_%d"
//   model.embedding.outputs.deepstack_embeds_names "deepstack_embeds_%d"
//   model.decoder.inputs.deepstack_embeds_names    "deepstack_embeds_%d"
//   model.vision.num_deepstack_levels / model.decoder.deepstack_layers: level j
//   is added to the residual stream after decoder layer j.
Json genai_config(const LayoutInfo& info);
// processor_config.json (onnxruntime-extensions image pipeline) with
// smart_resize on the checkpoint's factor (patch * merge = 32) and min/max pixels.
Json genai_processor_config(const LayoutInfo& info);

// config.json for transformers.js: the checkpoint's own, plus
// transformers.js_config (external data per file) and, for DeepStack, the
// "deepstack_embedding_columns" note; text-only exports become a plain
// qwen3 causal LM config. `external` maps .onnx file names to whether they
// use external data.
Json transformers_js_config(const LayoutInfo& info, const std::map<std::string, bool>& external);

}  // namespace qwen3vl::onnx_export
