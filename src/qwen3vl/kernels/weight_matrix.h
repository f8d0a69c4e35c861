// A 2-D weight of a linear layer, stored as the checkpoint has it ([out, in],
// row-major) in one of several formats. Kernels read it; model code only
// passes it around. BF16/F16/F32 may point straight into a mapped checkpoint.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace qwen3vl {

enum class WeightFormat {
  F32,   // float
  BF16,  // bfloat16 (the checkpoints' own format): exact f32 math after widening
  F16,
  Q8,    // int8, symmetric, one f16 scale per 32 inputs per row (8.5 bits/weight)
  Q4,    // int4, symmetric, one f16 scale per 32 inputs per row (4.5 bits/weight)
};

const char* weight_format_name(WeightFormat f);

struct WeightMatrix {
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0;  // output features
  int64_t cols = 0;  // input features
  // Format-specific layout. Q8/Q4 are tiled, with their scales interleaved
  // next to the values they scale (see kernels/quant.h).
  const void* data = nullptr;
  int group_size = 0;              // Q8/Q4 only (always 32)
  std::shared_ptr<void> owner;     // keeps converted/quantized storage alive (null for mmap views)

  // Bytes a full pass over the weight reads (what decode costs per token).
  size_t bytes() const;
};

// Wraps float data (copied into owned storage).
WeightMatrix make_f32_weight(int64_t rows, int64_t cols, std::vector<float> values);

}  // namespace qwen3vl
