// Every GenerateOptions field checked on its own, before any heavy work
// (image decoding, the vision encoder, prefill), so a bad value costs nothing
// and is named: sampling values in their ranges, image-token budgets bounded,
// stop strings non-empty. The session calls it first; front ends may call it
// earlier still (the CLI does, before loading the model).
#pragma once
#include <cstdint>

#include "qwen3vl/qwen3vl.h"

namespace qwen3vl {

// Largest image-token budget accepted (--image-min-tokens/--image-max-tokens):
// the longest context of any Qwen3-VL model. One image can never need more.
constexpr int64_t kMaxImageTokensOption = 262144;

// Throws Error naming the first field out of range.
void validate_generate_options(const GenerateOptions& options);

}  // namespace qwen3vl
