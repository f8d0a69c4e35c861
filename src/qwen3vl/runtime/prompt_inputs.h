// The first stage of a generation: messages -> chat template -> token ids,
// images decoded and preprocessed, each <|image_pad|> expanded to its
// image's merged-token count, and the prompt's 3-D rope positions. Shared by
// the session (which then runs the vision encoder and the decoder) and by
// anything that feeds the same inputs to another runtime (an ONNX export).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/model/rope_index.h"
#include "qwen3vl/model/vision_grid.h"

namespace qwen3vl {

struct GenerateOptions;
class Model;

struct PromptInputs {
  std::vector<int32_t> ids;         // after <|image_pad|> expansion
  std::vector<int32_t> image_rows;  // rows of ids that take image features, in order
  std::vector<PreprocessedImage> images;
  std::vector<VisionGrid> grids;    // one per image
  RopeIndex rope;                   // positions [3, ids.size()] and the decode delta
  double image_decode_ms = 0, preprocess_ms = 0;

  // Every image's pixel_values rows, concatenated ([patches, patch_dim]).
  std::vector<float> pixel_values() const;
};

// `resolve_image` maps an image reference (path or data: URI) to what
// load_image reads. Throws Error naming the image or the mismatch.
PromptInputs prepare_prompt_inputs(const Model& model, const Json& messages, const GenerateOptions& options,
                                   const std::function<std::string(const std::string&)>& resolve_image);

}  // namespace qwen3vl
