// Where qwen3vl keeps what it derives and may recompute: the extracted default
// model, converted model files of Hub checkpoints, kernel measurements.
#pragma once
#include <string>

namespace qwen3vl {

// $QWEN3VL_CACHE, else $XDG_CACHE_HOME/qwen3vl, else ~/.cache/qwen3vl, else
// /tmp/qwen3vl-cache. Not created here.
std::string qwen3vl_cache_dir();

}  // namespace qwen3vl
