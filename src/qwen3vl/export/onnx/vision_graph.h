// The vision tower as a self-contained ONNX graph: inputs pixel_values
// [patches, patch_dim] and image_grid_thw [images, 3] for any number of
// images of any sizes. Everything that depends on the grids — which patch
// belongs to which image and where in it, the align-corners bilinear blend of
// the learned position table, the 2-D rotary tables, the per-image (per
// frame) attention mask — is computed in the graph with dynamic-shape ops,
// the same quantities model/vision_inputs computes on the host. No node
// depends on a shape seen at export time.
#pragma once
#include <string>

#include "qwen3vl/export/onnx/export_weights.h"
#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

struct VisionGraphNames {
  std::string features = "image_features";
  // One output per DeepStack level: prefix + level ("deepstack_features_0", ...).
  std::string deepstack_prefix = "deepstack_features_";
  // transformers.js: no separate DeepStack outputs; the levels are extra
  // columns of `features` ([tokens, out_hidden * (1 + levels)]).
  bool deepstack_as_columns = false;
};

// Adds the vision tower to `g` (an empty graph).
void build_vision_graph(GraphBuilder& g, ExportWeights& w, const VisionGraphNames& names);

}  // namespace qwen3vl::onnx_export
