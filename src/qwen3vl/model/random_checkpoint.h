// The weights of a Hugging Face layout Qwen3-VL checkpoint, deterministic
// random bf16 values: same bytes, same cost as the real model, for benchmarks.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "qwen3vl/base/json.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/weights/tensor_spec.h"

namespace qwen3vl {

struct RandomCheckpointOptions {
  uint64_t seed = 1234;
  uint64_t max_shard_bytes = 4ull << 30;  // HF-style sharding above this
  int threads = 0;                        // threads generating values (0: one per core)
  // Called with (bytes written, total bytes) as the weights are written.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Values `first` .. `first + count - 1` (row-major) of the tensor `spec`
// names, as deterministic random bf16 numbers of seed `seed`: norms near 1,
// weights and biases small and uniform, so activations stay finite through
// every layer. Each value depends only on (seed, name, index), so a tensor
// can be produced in any pieces, on any thread, and is the same every time.
void fill_random_bf16(const TensorSpec& spec, uint64_t seed, uint64_t first, uint64_t count, uint16_t* out,
                      ThreadPool& pool);

// The config.json text write_random_checkpoint writes for `config`.
std::string random_checkpoint_config_text(const Json& config);

// Writes config.json (from `config`) and model.safetensors, or shards plus
// model.safetensors.index.json, holding every tensor qwen3vl_tensor_specs
// lists for it, into `dir` (created). The tokenizer and the other files a
// runnable checkpoint needs are the caller's (see write_random_model in the
// public API).
void write_random_checkpoint(const Json& config, const std::string& dir, const RandomCheckpointOptions& opts);

}  // namespace qwen3vl
