// prepare_onnx_inputs(): the session's own prompt preparation, flattened to
// the tensors an exported model takes.
#include "qwen3vl/export_onnx.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/prompt_inputs.h"

namespace qwen3vl {

OnnxPromptInputs prepare_onnx_inputs(const Model& model, const Json& messages, const GenerateOptions& options,
                                     const std::string& base_dir) {
  const PromptInputs p = prepare_prompt_inputs(ModelAccess::of(model), messages, options, base_dir);
  for (const PreparedMedium& m : p.media)
    if (m.kind != MediaKind::Image) throw Error("ONNX prompt inputs take images only, not videos");
  OnnxPromptInputs out;
  out.input_ids.assign(p.layout.ids.begin(), p.layout.ids.end());
  out.pixel_values = p.pixel_values(MediaKind::Image);
  out.patch_dim = model.config().vision.patch_dim();
  for (const PreparedMedium& m : p.media) out.image_grid_thw.insert(out.image_grid_thw.end(), {m.grid.t, m.grid.h, m.grid.w});
  const int64_t L = p.layout.length();
  out.position_ids.reserve(static_cast<size_t>(3 * L));
  for (int a = 0; a < 3; ++a) out.position_ids.insert(out.position_ids.end(), p.layout.positions[a].begin(), p.layout.positions[a].end());
  out.rope_delta = p.layout.rope_delta;
  return out;
}

}  // namespace qwen3vl
