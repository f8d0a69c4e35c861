// The qwen3vl subcommands; each returns the process exit code.
#pragma once

namespace qwen3vl::cli {

int run_command(int argc, char** argv);
int tokenize_command(int argc, char** argv);
int dump_command(int argc, char** argv);
int make_random_model_command(int argc, char** argv);
int quantize_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int export_onnx_command(int argc, char** argv);
int prepare_inputs_command(int argc, char** argv);

}  // namespace qwen3vl::cli
