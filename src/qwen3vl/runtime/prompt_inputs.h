// The first stage of a generation: messages -> chat template -> token ids,
// media read, decoded and preprocessed, every placeholder expanded and the
// prompt's 3-D rope positions laid out by the model layer. Shared by the
// session (which then runs the vision tower and the decoder) and by anything
// that feeds the same inputs to another runtime (an ONNX export).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/model/prompt_layout.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/media_preparation.h"

namespace qwen3vl {

struct PromptInputs {
  PromptLayout layout;                // ids, positions, rope delta, visual rows
  std::vector<PreparedMedium> media;  // in prompt order
  StageTimings timings;               // image/video decode and preprocess

  // Every medium's pixel rows of one kind, concatenated ([patches, patch_dim]).
  std::vector<float> pixel_values(MediaKind kind) const;
};

// Relative media paths not found from the working directory resolve against
// `base_dir`. A medium whose token count (known from its metadata) reaches
// `context_tokens` (> 0) is refused before its pixels are decoded. Throws
// Error naming the medium or the mismatch.
PromptInputs prepare_prompt_inputs(const Model::Impl& model, const Json& messages, const GenerateOptions& options,
                                   const std::string& base_dir, int64_t context_tokens = 0);

}  // namespace qwen3vl
