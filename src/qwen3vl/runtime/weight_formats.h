// The user-facing weight formats (--quant) and what each means per tensor
// class, plus the converter that performs them at load.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/model/weight_loading.h"
#include "qwen3vl/qwen3vl.h"

namespace qwen3vl {

// "auto": as stored (zero-copy; f32 math). "f32": widened. "bf16": bf16
// everywhere. "q8": int8 everywhere. "q4": int4 attention and MLP, int8
// embedding/head and vision tower (the head and the compute-bound vision
// tower gain little from 4 bits and lose the most accuracy).
// Throws Error for an unknown name.
WeightOptions weight_options_from_name(const std::string& name);

// Converts a stored weight to `target` (quantizing or narrowing as needed),
// spreading the rows over ThreadPool::global(). Q8/Q4 results are bit-identical
// to quantize_weight's: the tiles are quantized independently.
WeightMatrix convert_weight_format(const WeightMatrix& stored, WeightFormat target, const std::string& name);

// quantize_weight on `pool`: slabs of whole 16-row tiles are quantized on
// different threads straight into the result (the layout is tile-major, so a
// slab's bytes are a contiguous range of the whole matrix's).
WeightMatrix quantize_weight_parallel(const WeightMatrix& src, WeightFormat fmt, ThreadPool& pool);

// A 2-D linear weight of the model and the class that decides its format;
// or, with `experts` > 0, a MoE layer's fused expert tensor, stored
// [experts, cols, rows] (x @ W[e]) and used as `experts` [rows, cols]
// matrices (model/weight_loading.h, expert_weights).
struct PlannedWeight {
  std::string name;
  int64_t rows = 0, cols = 0;
  WeightClass cls = WeightClass::Mlp;
  int64_t experts = 0;
};

// Every linear weight the model code loads through linear_weight() or
// expert_weights(), by HF name: embedding/head, attention, MLP (dense, and
// MoE experts as the MLP class; MoE routers are always used as stored) and
// (with include_vision) the vision tower's 2-D weights. The vision patch
// embedding (a 5-D convolution) and position table are not in it: they are
// always used as stored.
std::vector<PlannedWeight> linear_weight_plan(const ModelConfig& config, bool include_vision);

// The quantize-at-load path: converts every planned weight whose stored format
// differs from what `options` asks for its class (one tensor at a time, its
// rows in parallel), registers the result with ckpt.set_prepared(), and
// releases the source tensor's pages from the resident set, so converting a
// large checkpoint never holds more than the converted weights plus one
// tensor's source. `progress` (may be empty) receives the fraction done.
void prepare_converted_weights(Checkpoint& ckpt, const std::vector<PlannedWeight>& plan,
                               const WeightOptions& options, const std::function<void(double)>& progress);
// The KV cache type LoadOptions asks for ("auto" resolved against the
// weights). Throws Error for an unknown name.
KVCacheType resolved_kv_cache_type(const LoadOptions& options);

}  // namespace qwen3vl
