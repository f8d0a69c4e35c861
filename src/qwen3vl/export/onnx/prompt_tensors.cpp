// prepare_onnx_inputs(): the session's own prompt preparation, flattened to
// the tensors an exported model takes.
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/export_onnx.h"
#include "qwen3vl/runtime/prompt_inputs.h"

namespace qwen3vl {

OnnxPromptInputs prepare_onnx_inputs(const Model& model, const Json& messages, const GenerateOptions& options,
                                     const std::string& base_dir) {
  auto resolve = [&](const std::string& source) {
    if (source.rfind("data:", 0) == 0 || base_dir.empty() || file_exists(source) || source[0] == '/') return source;
    return base_dir + "/" + source;
  };
  const PromptInputs p = prepare_prompt_inputs(model, messages, options, resolve);
  OnnxPromptInputs out;
  out.input_ids.assign(p.ids.begin(), p.ids.end());
  out.pixel_values = p.pixel_values();
  out.patch_dim = model.config().vision.patch_dim();
  for (const auto& g : p.grids) out.image_grid_thw.insert(out.image_grid_thw.end(), {g.t, g.h, g.w});
  out.position_ids = p.rope.positions;
  out.rope_delta = p.rope.rope_delta;
  return out;
}

}  // namespace qwen3vl
