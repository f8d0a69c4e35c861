#include "qwen3vl/runtime/kv_cache_choice.h"

namespace qwen3vl {

KVCacheType resolved_kv_cache_type(const LoadOptions& options) {
  if (options.kv_cache == "auto" || options.kv_cache.empty())
    return options.weights == "auto" || options.weights == "f32" || options.weights.empty() ? KVCacheType::F32
                                                                                             : KVCacheType::F16;
  return parse_kv_cache_type(options.kv_cache);
}

}  // namespace qwen3vl
