// What a loaded model holds (shared, read-only after load).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/video/video_processor_config.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/qwen3vl_model.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/generation_config.h"
#include "qwen3vl/runtime/kernel_tuning.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

struct Model::Impl {
  std::string path;
  bool is_default = false;
  uint64_t instance_id = 0;  // distinguishes models in a shared encoding cache
  LoadOptions options;
  // The threads every kernel of this model runs on (LoadOptions::threads):
  // its own pool, so a second model loaded with another thread count gets
  // what it asked for; sessions on several threads share it (ThreadPool
  // takes turns).
  std::unique_ptr<ThreadPool> pool;
  ModelConfig config;
  GenerationConfig generation;
  PreprocessorConfig preprocessor;
  VideoProcessorConfig video_processor;
  std::unique_ptr<Checkpoint> checkpoint;  // the weights' mapping; outlives the views below
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;
  std::optional<Qwen3VLModel> network;  // absent when loaded without weights
  // Kernels chosen for this machine at load (set process-wide); empty
  // origin when nothing was chosen (loaded without the vision tower).
  KernelTuning kernel_tuning;
  double load_ms = 0;
};

// The library's access to a Model's internals (the public header keeps them opaque).
struct ModelAccess {
  static const Model::Impl& of(const Model& m) { return *m.impl_; }
};

// The loaded network; throws Error when the model was loaded without weights.
const Qwen3VLModel& loaded_network(const Model& m);

}  // namespace qwen3vl
