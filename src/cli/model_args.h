// Options shared by the commands that load a model and generate.
#pragma once
#include <memory>
#include <string>

#include "args.h"
#include "qwen3vl/qwen3vl.h"

namespace qwen3vl::cli {

// Adds -m, --threads, --quant, --ctx.
void add_model_options(Args& args);
// Adds sampling, image-size, video-sampling and stop options.
void add_generation_options(Args& args);
// Adds --video-fps, --video-frames, --video-outer-wrapper.
void add_video_options(Args& args);
VideoOptions video_options_from_args(const Args& args);
// Loads -m DIR, or the embedded default model with a notice on stderr.
std::shared_ptr<Model> load_model_from_args(const Args& args, bool quiet);
GenerateOptions generation_options_from_args(const Args& args);

}  // namespace qwen3vl::cli
