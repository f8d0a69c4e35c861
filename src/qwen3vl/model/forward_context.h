// What one forward call runs with besides the weights and the sequence state:
// the threads to spread work over and optional observers. Passed per call, so
// a model shared by several sessions or threads holds no per-call settings.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

// Receives named intermediate tensors (row-major float32 or int64 data of the
// given shape) as a forward call produces them, for golden tests and dumps.
struct TensorSink {
  std::function<void(const std::string& name, const std::vector<int64_t>& shape, const float* data)> f32;
  std::function<void(const std::string& name, const std::vector<int64_t>& shape, const int64_t* data)> i64;

  void put(const std::string& name, const std::vector<int64_t>& shape, const float* data) const {
    if (f32) f32(name, shape, data);
  }
  void put(const std::string& name, const std::vector<int64_t>& shape, const int64_t* data) const {
    if (i64) i64(name, shape, data);
  }
};

// Where a text-decoder forward call's time went (milliseconds, summed over
// calls). Measuring costs two clock reads per phase, and none without a profile.
struct DecoderProfile {
  double embed_ms = 0;       // embedding lookup, visual rows, RoPE tables
  double norms_ms = 0;       // RMSNorms, q/k norms, RoPE, SwiGLU, residual adds
  double qkv_ms = 0;         // q/k/v projections
  double attention_ms = 0;   // KV cache write + attention
  double out_proj_ms = 0;    // o projection
  double mlp_ms = 0;         // gate/up/down projections
  double head_ms = 0;        // final norm + LM head
  int64_t calls = 0;
  double total_ms() const { return embed_ms + norms_ms + qkv_ms + attention_ms + out_proj_ms + mlp_ms + head_ms; }
};

struct ForwardContext {
  ThreadPool& pool;
  const TensorSink* capture = nullptr;  // null: nothing observed
  DecoderProfile* profile = nullptr;    // null: not timed

  bool capturing() const { return capture && capture->f32; }
};

}  // namespace qwen3vl
