// qwen3vl: the command-line front end over the library in include/qwen3vl.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"
#include "qwen3vl/base/error.h"

namespace {

const char* kUsage =
    "usage: qwen3vl <command> [options]\n"
    "\n"
    "Runs Qwen3-VL vision-language models (Hugging Face checkpoints or qwen3vl model files) on the CPU.\n"
    "\n"
    "commands:\n"
    "  run                 answer a prompt (text and images), streaming to stdout\n"
    "  chat                an interactive conversation (line editing, images, /save and /load)\n"
    "  tokenize            print the token ids of a text\n"
    "  dump                write the pipeline's intermediate tensors to a safetensors file\n"
    "  quantize            write a pre-quantized model file (q4, q8 or bf16) that loads by mapping it\n"
    "  export-onnx         export to ONNX (onnxruntime-genai or transformers.js layout)\n"
    "  prepare-inputs      write a prompt's model inputs (ids, pixels, grids, positions) for another runtime\n"
    "  make-random-model   write a random-weight checkpoint with the real 2B/4B/8B shapes\n"
    "  bench               measure decode, prefill, vision and memory against this machine's limits\n"
    "  draw-boxes          draw the boxes and points of a grounding answer on its image\n"
    "  pull                download a model from the Hugging Face Hub into its cache (-m owner/name then works)\n"
    "  list                list the models in the Hugging Face cache\n"
    "  serve               an OpenAI-compatible HTTP server (chat completions with images, streaming, tools)\n"
    "\n"
    "`qwen3vl <command> --help` describes each command.\n";

struct Command {
  const char* name;
  int (*fn)(int, char**);
};

const Command kCommands[] = {
    {"run", qwen3vl::cli::run_command},
    {"chat", qwen3vl::cli::chat_command},
    {"tokenize", qwen3vl::cli::tokenize_command},
    {"dump", qwen3vl::cli::dump_command},
    {"quantize", qwen3vl::cli::quantize_command},
    {"make-random-model", qwen3vl::cli::make_random_model_command},
    {"bench", qwen3vl::cli::bench_command},
    {"export-onnx", qwen3vl::cli::export_onnx_command},
    {"prepare-inputs", qwen3vl::cli::prepare_inputs_command},
    {"draw-boxes", qwen3vl::cli::draw_boxes_command},
    {"pull", qwen3vl::cli::pull_command},
    {"list", qwen3vl::cli::list_command},
    {"serve", qwen3vl::cli::serve_command},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (argv[1] == std::string(c.name)) {
      try {
        return c.fn(argc, argv);
      } catch (const qwen3vl::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
      } catch (const std::bad_alloc&) {
        std::cerr << "error: out of memory\n";
        return 1;
      } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
      }
    }
  }
  std::cerr << "qwen3vl: unknown command '" << argv[1] << "'\n\n" << kUsage;
  return 2;
}
