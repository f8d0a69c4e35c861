// Weight quantization (Q8, Q4) and the int8 activation quantization the
// quantized matmul kernels use.
//
// Numerics
//   Weights: symmetric, one scale per row per group of 32 inputs, stored as
//   f16. Q8: q = round(w / d), d = amax / 127, q in [-127, 127].
//   Q4: q = round(w / d), d = amax / 7, q in [-7, 7] (symmetric, no minimum;
//   level -8 is unused so that zero stays exact and the range is balanced).
//   Activations: quantized on the fly, once per matmul call, per row per
//   block of 32 inputs: q = round(x / s), s = amax / 127, q in [-127, 127].
//   Output: y = Σ_blocks float(Σ_k qw·qx) · (d·s), accumulated in float with
//   one fused multiply-add per block in block order — every ISA performs
//   exactly these operations (the integer dot is exact), so all kernels agree
//   bit for bit with quantized_matmul_reference.
//
// Memory layout (designed so one 64-byte load feeds one vpdpbusd and a GEMV
// streams the matrix front to back)
//   Rows are cut into tiles of 16 rows (the last tile zero-padded), columns
//   into groups of 32 (the last group zero-padded). The data is tile-major,
//   then group-major; each (tile, group) block is
//     16 × f16 scales (32 bytes, row r of the tile at index r), then
//     Q8: 8 chunks of 64 bytes; chunk c holds, for row r at bytes 4r..4r+3,
//         the weights of inputs 4c..4c+3 of the group, each stored as q + 128
//         (an unsigned byte, the form vpdpbusd multiplies);
//     Q4: 4 chunks of 64 bytes; byte 4r+j of chunk c holds q + 8 of input
//         8c+j in its low nibble and of input 8c+4+j in its high nibble.
//   So a chunk (or a nibble half of one) is a 16-row × 4-input slab: one
//   instruction multiplies 4 inputs for 16 output rows, and the 16 row sums
//   land in the 16 lanes of a vector: no horizontal reductions.
//   Block sizes: Q8 544 bytes (8.5 bits/weight), Q4 288 bytes (4.5 bits/weight).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

constexpr int kQuantTileRows = 16;
constexpr int kQuantGroup = 32;
constexpr int kQuantScaleBytes = kQuantTileRows * 2;

// Bytes of one (tile, group) block, scales included.
size_t quant_block_bytes(WeightFormat fmt);
int64_t quant_tiles(int64_t rows);
int64_t quant_groups(int64_t cols);
// Total bytes of a quantized matrix in the layout above.
size_t quantized_weight_bytes(WeightFormat fmt, int64_t rows, int64_t cols);

// Quantizes an F32/BF16/F16 matrix to Q8 or Q4 (group_size must be 32).
// The result owns its storage.
WeightMatrix quantize_weight(const WeightMatrix& src, WeightFormat fmt, int group_size = kQuantGroup);

// A Q8/Q4 matrix over `storage`, which holds quantized_weight_bytes(fmt, rows,
// cols) bytes in the layout above (filled by the caller).
WeightMatrix quantized_weight_over(WeightFormat fmt, int64_t rows, int64_t cols,
                                   std::shared_ptr<std::vector<uint8_t>> storage);

// The float values a Q8/Q4 row stands for (q · d), `cols` of them.
void dequantize_row(const WeightMatrix& w, int64_t row, float* out);

// Activations quantized per row per block of 32 (zero-padded to whole blocks).
struct QuantizedActivations {
  int64_t m = 0;
  int64_t blocks = 0;            // per row
  std::vector<int8_t> values;    // [m][blocks * 32]
  std::vector<float> scales;     // [m][blocks]
  std::vector<int32_t> sums;     // [m][blocks]: Σ values of the block (for offset corrections)

  const int8_t* row_values(int64_t i) const { return values.data() + i * blocks * kQuantGroup; }
  const float* row_scales(int64_t i) const { return scales.data() + i * blocks; }
  const int32_t* row_sums(int64_t i) const { return sums.data() + i * blocks; }
};

// Quantizes x[m, cols]; rows are spread over `pool` when there are many.
// `pool` may be null (the calling thread does all rows).
void quantize_activations(const float* x, int64_t m, int64_t cols, QuantizedActivations& out, ThreadPool* pool);

// Scalar kernel of the quantized math above for weight tiles [tile0, tile1):
// writes y[i * w.rows + n] for every activation row i and the tiles' rows n
// (bias not added). The reference the SIMD kernels are compared with.
void quantized_matmul_tiles_scalar(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0,
                                   int64_t tile1, float* y);

// Whole quantized matmul, single thread, scalar: Y = X·Wᵀ + bias with the
// activation quantization above.
void quantized_matmul_reference(const float* x, int64_t m, const WeightMatrix& w, const float* bias,
                                float* y);

}  // namespace qwen3vl
