#include <iostream>

#include "args.h"
#include "commands.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/export_onnx.h"
#include "qwen3vl/io/safetensors.h"

namespace qwen3vl::cli {

Json messages_from_args(const Args& args, std::string* base_dir);

int prepare_inputs_command(int argc, char** argv) {
  Args args("prepare-inputs",
            "Prepares a prompt's model inputs exactly as `run` does (chat template, tokens, image preprocessing,\n"
            "<|image_pad|> expansion, 3-D positions) and writes them for another runtime (an ONNX export):\n"
            "input_ids [seq], pixel_values [patches, 1536], image_grid_thw [images, 3], position_ids [3, seq],\n"
            "rope_deltas [1]. Needs only the configs, tokenizer and template: an export directory will do.");
  args.value("-m,--model", "DIR", "checkpoint or export directory")
      .value("--messages", "FILE", "a JSON array of chat messages (- for stdin)")
      .value("-p,--prompt", "TEXT", "the user's message (instead of --messages)")
      .value("--image", "PATH", "an image placed before the prompt", true)
      .value("--system", "TEXT", "a system message")
      .value("-o,--output", "FILE", "safetensors file to write");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("model") || !args.has("output")) args.fail("prepare-inputs needs -m DIR and -o FILE");
  std::string base_dir;
  const Json messages = messages_from_args(args, &base_dir);
  LoadOptions load;
  load.load_weights = false;
  const auto model = Model::load(args.get("model"), load);
  const OnnxPromptInputs in = prepare_onnx_inputs(*model, messages, {}, base_dir);
  const int64_t seq = static_cast<int64_t>(in.input_ids.size());
  const int64_t images = static_cast<int64_t>(in.image_grid_thw.size() / 3);
  SafetensorsWriter w;
  w.add_i64("input_ids", {seq}, in.input_ids);
  w.add_i64("position_ids", {3, seq}, in.position_ids);
  w.add_i64("rope_deltas", {1}, {in.rope_delta});
  w.add_i64("image_grid_thw", {images, 3}, in.image_grid_thw);
  w.add_f32("pixel_values", {static_cast<int64_t>(in.pixel_values.size()) / in.patch_dim, in.patch_dim},
            in.pixel_values);
  w.write(args.get("output"));
  return 0;
}

}  // namespace qwen3vl::cli
