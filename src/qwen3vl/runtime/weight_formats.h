// The user-facing weight formats (--quant) and what each means per tensor
// class, plus the converter that performs them at load.
#pragma once
#include <string>

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

// Converts a stored weight to `target` (quantizing or narrowing as needed).
WeightMatrix convert_weight_format(const WeightMatrix& stored, WeightFormat target, const std::string& name);

// The KV cache type LoadOptions asks for ("auto" resolved against the
// weights). Throws Error for an unknown name.
KVCacheType resolved_kv_cache_type(const LoadOptions& options);

}  // namespace qwen3vl
