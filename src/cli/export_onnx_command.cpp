#include <algorithm>
#include <chrono>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/human_format.h"
#include "qwen3vl/export_onnx.h"

namespace qwen3vl::cli {

int export_onnx_command(int argc, char** argv) {
  Args args("export-onnx",
            "Exports a Hugging Face Qwen3-VL checkpoint to ONNX for ONNX Runtime (onnxruntime-genai layout)\n"
            "or transformers.js. The vision graph takes any number of images of any sizes; DeepStack is kept\n"
            "in both layouts. Every file passes the ONNX checker and shape inference before this succeeds;\n"
            "the export is built in a fresh directory beside -o and renamed into place at the end, so a\n"
            "failure or Ctrl-C leaves nothing half-written.");
  args.value("-m,--model", "DIR", "Hugging Face checkpoint directory")
      .value("-o,--output", "DIR", "export directory (an existing one is replaced only if it holds an earlier export)")
      .value("--layout", "genai|transformers.js", "file layout (default genai)")
      .value("--precision", "fp32|fp16|int4",
             "fp32: standard ONNX ops; fp16: float16 weights; int4: MatMulNBits decoder (default fp32)")
      .value("--block-size", "32|64|128", "int4 weights per scale (default 32)")
      .flag("--text-only", "the language model alone, as a plain causal LM")
      .flag("--external-data", "weights in a data file beside each graph even under 2 GB (always above)")
      .flag("-q,--quiet", "no progress bar");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("model") || !args.has("output")) args.fail("export-onnx needs -m DIR and -o DIR");
  OnnxExportOptions opts;
  opts.layout = args.get("layout", "genai");
  opts.precision = args.get("precision", "fp32");
  opts.block_size = args.get_int("block-size", 32);
  opts.text_only = args.has("text-only");
  opts.external_data = args.has("external-data");
  ProgressBar bar("exporting " + args.get("model"), !args.has("quiet"));
  opts.progress = [&](const std::string&, uint64_t done, uint64_t total) {
    bar.update(std::min(1.0, double(done) / double(std::max<uint64_t>(total, 1))), done);
  };
  const auto t0 = std::chrono::steady_clock::now();
  const OnnxExportResult r = export_onnx(args.get("model"), args.get("output"), opts);
  bar.finish();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!args.has("quiet")) {
    std::cerr << "wrote " << opts.layout << " " << opts.precision << (opts.text_only ? " text-only" : "")
              << " export to " << args.get("output") << " (" << format_bytes(r.bytes) << ", " << r.files.size()
              << " files, checked) in " << format_duration_ms(s * 1000) << "\n";
  }
  return 0;
}

}  // namespace qwen3vl::cli
