#include <chrono>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "progress.h"
#include "qwen3vl/base/human_format.h"
#include "qwen3vl/qwen3vl.h"

namespace qwen3vl::cli {

int make_random_model_command(int argc, char** argv) {
  Args args("make-random-model",
            "Writes a Hugging Face layout Qwen3-VL checkpoint with deterministic random bf16 weights and\n"
            "the real dimensions of a published model, plus the bundled tokenizer and chat template.\n"
            "Random weights cost exactly what real ones cost: use it to measure speed and memory.\n"
            "With --quant, writes the qwen3vl model file `quantize` would make of that checkpoint instead,\n"
            "tensor by tensor, without the bf16 checkpoint (30b-a3b: 17 GB at q4 instead of 61 GB).");
  args.value("--preset", "2b|4b|8b|30b-a3b|tiny-moe", "model shape to write")
      .value("--layers", "N", "keep only the first N decoder layers (a scaled model of a shape too big to write)")
      .value("-o,--output", "DIR|FILE", "checkpoint directory to write (created), or with --quant the model file")
      .value("--quant", "q4|q8|bf16", "write a model file of this format (as `quantize --quant` makes)")
      .value("--seed", "N", "random seed (default 1234)")
      .value("-t,--threads", "N", "threads, at least 1 (default: one per hardware thread)")
      .flag("-q,--quiet", "no progress bar");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("preset") || !args.has("output"))
    args.fail("make-random-model needs --preset and -o DIR (or -o FILE with --quant)");
  RandomModelOptions opts;
  opts.seed = static_cast<uint64_t>(args.get_int64("seed", 1234));
  opts.threads = threads_from_args(args, args.has("quiet"));
  ProgressBar bar("writing " + args.get("output"), !args.has("quiet"));
  opts.progress = [&](uint64_t done, uint64_t total) { bar.update(double(done) / double(total), done); };
  const auto t0 = std::chrono::steady_clock::now();
  Json config = published_model_config(args.get("preset"));
  if (args.has("layers")) {
    Json& text = config["text_config"];
    const int64_t layers = args.get_int64("layers", 0);
    const int64_t deepstack = static_cast<int64_t>(config["vision_config"]["deepstack_visual_indexes"].size());
    if (layers < deepstack || layers > text["num_hidden_layers"].get<int64_t>())
      args.fail("--layers must be between " + std::to_string(deepstack) + " (the DeepStack levels) and " +
                  std::to_string(text["num_hidden_layers"].get<int64_t>()) + " for preset " + args.get("preset"));
    text["num_hidden_layers"] = layers;
    if (text.contains("mlp_only_layers")) {
      Json kept = Json::array();
      for (const Json& l : text["mlp_only_layers"])
        if (l.get<int64_t>() < layers) kept.push_back(l);
      text["mlp_only_layers"] = kept;
    }
  }
  if (args.has("quant"))
    write_random_model_file(config, args.get("output"), args.get("quant"), opts);
  else
    write_random_model(config, args.get("output"), opts);
  bar.finish();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "wrote " << args.get("preset") << " random-weight "
            << (args.has("quant") ? args.get("quant") + " model file " : std::string("checkpoint ")) << "to "
            << args.get("output") << " in " << format_duration_ms(s * 1000) << "\n";
  return 0;
}

}  // namespace qwen3vl::cli
