#include <sys/stat.h>

#include <chrono>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/runtime/model_file.h"

namespace qwen3vl::cli {

int quantize_command(int argc, char** argv) {
  Args args("quantize",
            "Writes one qwen3vl model file from a Hugging Face checkpoint directory: configs, tokenizer, chat\n"
            "template and every weight already quantized, so `run -m FILE` loads it by mapping it (no\n"
            "conversion at load). The format is described in docs/model-file-format.md.");
  args.value("-m,--model", "DIR", "Hugging Face checkpoint directory to read")
      .value("-o,--output", "FILE", "model file to write (replaced if it exists)")
      .value("--quant", "q4|q8|bf16",
             "q4: int4 attention/MLP, int8 embedding/head and vision; q8: int8 everywhere; bf16 (default q4)")
      .value("-t,--threads", "N", "threads (default: one per core)")
      .flag("-q,--quiet", "no progress bar");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("model") || !args.has("output")) throw Error("quantize needs -m DIR and -o FILE");
  const int threads = args.get_int("threads", 0);
  if (threads < 0) throw Error("--threads must be positive");
  QuantizeOptions opts;
  opts.threads = threads;
  opts.quant = args.get("quant", "q4");
  ProgressBar bar("quantizing " + args.get("model"), !args.has("quiet"));
  opts.progress = [&](uint64_t done, uint64_t total) { bar.update(double(done) / double(total), done); };
  const auto t0 = std::chrono::steady_clock::now();
  write_model_file(args.get("model"), args.get("output"), opts);
  bar.finish();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  struct stat st {};
  ::stat(args.get("output").c_str(), &st);
  if (!args.has("quiet"))
    std::cerr << "wrote " << opts.quant << " model file " << args.get("output") << " (" << double(st.st_size) / 1e9
              << " GB) in " << s << " s\n";
  return 0;
}

}  // namespace qwen3vl::cli
