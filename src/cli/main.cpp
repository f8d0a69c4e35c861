// qwen3vl: the command-line front end over the library in include/qwen3vl.
#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "args.h"
#include "commands.h"
#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "standard_output.h"

namespace {

const char* kUsage =
    "usage: qwen3vl <command> [options]\n"
    "       qwen3vl --version\n"
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
    "`qwen3vl <command> --help` describes each command.\n"
    "\n"
    "exit status: 0 success, 1 runtime error (bad file, model, image or prompt), 2 usage error\n"
    "(unknown command or option, malformed or out-of-range value); errors print\n"
    "\"qwen3vl: error: ...\" on stderr. A closed output pipe ends the process by SIGPIPE.\n"
    "\n"
    "limits: JSON nested at most 128 levels; text and JSON files (messages, configs, tokenizer,\n"
    "chat template) must be regular files of at most 256 MiB (QWEN3VL_MAX_FILE_MB raises it);\n"
    "images at most 178,956,970 pixels by their header (--max-image-pixels); threads at most\n"
    "the hardware threads; --ctx at most the model's max_position_embeddings.\n";

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

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

// Ctrl-C during `quantize`, `dump` or `export-onnx` must not leave a temporary
// file or directory behind.
void remove_temporary_files_and_die(int signal_number) {
  qwen3vl::remove_pending_temporary_files();
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void print_error(const std::string& message) { std::cerr << "qwen3vl: error: " << message << "\n"; }

int run_command(const Command& command, int argc, char** argv) {
  try {
    const int status = command.fn(argc, argv);
    qwen3vl::cli::finish_standard_output();
    return status;
  } catch (const qwen3vl::cli::UsageError& e) {
    print_error(e.what());
    return kExitUsageError;
  } catch (const qwen3vl::Error& e) {
    print_error(e.what());
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  return kExitRuntimeError;
}

}  // namespace

int main(int argc, char** argv) {
  for (int s : {SIGINT, SIGTERM, SIGHUP}) std::signal(s, remove_temporary_files_and_die);
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsageError;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (first == "--version" || first == "version") {
    std::cout << "qwen3vl " << QWEN3VL_VERSION << " (kernels: "
              << qwen3vl::isa_level_name(qwen3vl::active_isa_level()) << ")\n";
    try {
      qwen3vl::cli::finish_standard_output();
    } catch (const qwen3vl::Error& e) {
      print_error(e.what());
      return kExitRuntimeError;
    }
    return 0;
  }
  for (const auto& c : kCommands)
    if (first == c.name) return run_command(c, argc, argv);
  print_error("unknown command '" + first + "' (see qwen3vl --help)");
  return kExitUsageError;
}
