// Weights in the layout of ONNX Runtime's com.microsoft MatMulNBits: for an
// [N, K] weight (N outputs, K inputs) cut into blocks of `block_size` inputs,
// B is uint8 [N, blocks, block_size * bits / 8] and scales are float
// [N * blocks]. 4 bits: input 2i of a block in the low nibble of byte i,
// input 2i+1 in the high nibble; 8 bits: one byte per input. No zero points
// are stored, so the runtime uses the midpoint: w = (q - 2^(bits-1)) * scale.
//
// The numerics are those of our own q4/q8 formats (kernels/quant.h):
// symmetric, scale = amax / 7 (4 bits, q in [-7, 7]) or amax / 127 (8 bits),
// scales rounded to float16, so zero stays exact. They are computed from the
// source weights, never from our tiled in-memory layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

struct NBitsMatrix {
  int64_t n = 0, k = 0, block_size = 0;
  int bits = 4;
  int64_t blocks() const { return (k + block_size - 1) / block_size; }
  int64_t block_bytes() const { return block_size * bits / 8; }
  std::vector<uint8_t> packed;  // [n, blocks, block_bytes]
  std::vector<float> scales;    // [n, blocks]
};

// Quantizes a row-major [n, k] float32 matrix to 4 or 8 bits (the last block
// of each row is zero-padded). block_size: a power of two >= 16.
NBitsMatrix quantize_nbits(const float* w, int64_t n, int64_t k, int64_t block_size, int bits);
// The float32 matrix the runtime will use ([n, k]), for tests and bounds.
std::vector<float> dequantize_nbits(const NBitsMatrix& m);

// x [..., k] @ W^T -> [..., n] with MatMulNBits; initializers named after `name`.
std::string matmul_nbits(GraphBuilder& g, const std::string& x, const std::string& name, const NBitsMatrix& m);

}  // namespace qwen3vl::onnx_export
