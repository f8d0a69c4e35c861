// The qwen3vl subcommands; each returns the process exit code.
#pragma once

#include <string>

namespace qwen3vl {
struct GroundingDrawing;
}

namespace qwen3vl::cli {

int run_command(int argc, char** argv);
int chat_command(int argc, char** argv);
int tokenize_command(int argc, char** argv);
int dump_command(int argc, char** argv);
int make_random_model_command(int argc, char** argv);
int quantize_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int export_onnx_command(int argc, char** argv);
int prepare_inputs_command(int argc, char** argv);
int draw_boxes_command(int argc, char** argv);
int pull_command(int argc, char** argv);
int list_command(int argc, char** argv);
int serve_command(int argc, char** argv);

// One stderr line saying what draw-boxes / run --draw-boxes drew and where.
void report_drawing(const GroundingDrawing& drawing, const std::string& out_png);

}  // namespace qwen3vl::cli
