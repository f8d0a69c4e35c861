#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/io/safetensors.h"

namespace qwen3vl::cli {

Json messages_from_args(const Args& args, std::string* base_dir);

int dump_command(int argc, char** argv) {
  Args args("dump",
            "Runs the pipeline greedily and writes its intermediate tensors under the reference's names\n"
            "(input_ids, position_ids, rope_deltas, pixel_values, image_grid_thw, image_embeds,\n"
            "pixel_values_videos, video_grid_thw, video_embeds, deepstack_{j}, logits_last, generated_ids)\n"
            "to a safetensors file.");
  add_model_options(args);
  args.value("--messages", "FILE", "a JSON array of chat messages")
      .value("-p,--prompt", "TEXT", "the user's message (instead of --messages)")
      .value("--image", "PATH", "an image placed before the prompt", true)
      .value("--video", "PATH", "a video placed before the prompt (after the images)", true)
      .value("--system", "TEXT", "a system message")
      .value("-n,--max-tokens", "N", "tokens to generate greedily (default 12)")
      .value("-o,--output", "FILE", "safetensors file to write");
  add_video_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("output")) throw Error("dump needs -o OUT.safetensors");
  std::string base_dir;
  const Json messages = messages_from_args(args, &base_dir);
  auto model = load_model_from_args(args, true);
  Session session(model);
  if (!base_dir.empty()) session.set_base_dir(base_dir);
  GenerateOptions options;
  options.max_tokens = args.get_int("max-tokens", 12);
  options.sampling.temperature = 0.0f;
  options.video = video_options_from_args(args);
  SafetensorsWriter writer;
  TensorCapture capture;
  capture.f32 = [&](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    writer.add(name, DType::F32, shape, data, n * 4);
  };
  capture.i64 = [&](const std::string& name, const std::vector<int64_t>& shape, const int64_t* data) {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    writer.add(name, DType::I64, shape, data, n * 8);
  };
  const GenerationResult r = session.generate(messages, options, {}, &capture);
  std::vector<int64_t> generated(r.output_ids.begin(), r.output_ids.end());
  writer.add_i64("generated_ids", {static_cast<int64_t>(generated.size())}, generated);
  writer.write(args.get("output"));
  std::cerr << "wrote " << args.get("output") << " (" << r.prompt_ids.size() << " prompt tokens, "
            << r.output_ids.size() << " generated)\n";
  return 0;
}

}  // namespace qwen3vl::cli
