// int4 weights in the layout of ONNX Runtime's com.microsoft MatMulNBits
// (bits = 4): for an [N, K] weight (N outputs, K inputs) cut into blocks of
// `block_size` inputs, B is uint8 [N, blocks, block_size / 2] with input 2i of
// a block in the low nibble of byte i and input 2i+1 in the high nibble, and
// scales are float [N * blocks]; no zero points are stored, so the runtime
// uses 8: w = (q - 8) * scale.
//
// The numerics match our own q4 format (kernels/quant.h): symmetric, scale =
// amax / 7, q - 8 in [-7, 7], so zero stays exact. They are computed from the
// source weights, never from our tiled in-memory layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

struct Int4Matrix {
  int64_t n = 0, k = 0, block_size = 0;
  int64_t blocks() const { return (k + block_size - 1) / block_size; }
  std::vector<uint8_t> packed;  // [n, blocks, block_size / 2]
  std::vector<float> scales;    // [n, blocks]
};

// Quantizes a row-major [n, k] float32 matrix (the last block of each row is
// zero-padded). block_size: a power of two >= 16.
Int4Matrix quantize_int4(const float* w, int64_t n, int64_t k, int64_t block_size);
// The float32 matrix the runtime will use ([n, k]), for tests and bounds.
std::vector<float> dequantize_int4(const Int4Matrix& m);

// x [..., k] @ W^T -> [..., n] with MatMulNBits; initializers named after `name`.
std::string matmul_nbits(GraphBuilder& g, const std::string& x, const std::string& name, const Int4Matrix& m);

}  // namespace qwen3vl::onnx_export
