// What a loaded model holds (shared, read-only after load).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/model/vision_encoder.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/generation_config.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

struct Model::Impl {
  std::string path;
  bool is_default = false;
  LoadOptions options;
  // The threads every kernel of this model runs on (LoadOptions::threads);
  // sessions on several threads share it (ThreadPool takes turns).
  std::unique_ptr<ThreadPool> pool;
  ModelConfig config;
  GenerationConfig generation;
  PreprocessorConfig preprocessor;
  std::unique_ptr<Checkpoint> checkpoint;  // the weights' mapping; outlives the views below
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;
  std::optional<TextDecoder> decoder;
  std::unique_ptr<VisionEncoder> vision;
  double load_ms = 0;
};

}  // namespace qwen3vl
