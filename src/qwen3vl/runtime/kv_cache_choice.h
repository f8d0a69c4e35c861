// Which KV cache element type a loaded model uses.
#pragma once

#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/qwen3vl.h"

namespace qwen3vl {

// The KV cache type LoadOptions asks for, "auto" resolved against the weights:
// f32 with the exact weights ("auto"/"f32"), so the reference path stays
// exact, f16 with any reduced-precision weights. Throws Error for an unknown
// name.
KVCacheType resolved_kv_cache_type(const LoadOptions& options);

}  // namespace qwen3vl
