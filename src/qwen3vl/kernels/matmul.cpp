#include "qwen3vl/kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/matmul_kernels.h"
#include "qwen3vl/kernels/matmul_multi.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Q8: return "q8";
    case WeightFormat::Q4: return "q4";
  }
  return "?";
}

size_t WeightMatrix::bytes() const {
  const size_t n = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  switch (format) {
    case WeightFormat::F32: return n * 4;
    case WeightFormat::BF16:
    case WeightFormat::F16: return n * 2;
    case WeightFormat::Q8:
    case WeightFormat::Q4: return quantized_weight_bytes(format, rows, cols);
  }
  return 0;
}

WeightMatrix make_f32_weight(int64_t rows, int64_t cols, std::vector<float> values) {
  check(static_cast<int64_t>(values.size()) == rows * cols, "make_f32_weight: size mismatch");
  auto storage = std::make_shared<std::vector<float>>(std::move(values));
  WeightMatrix w;
  w.format = WeightFormat::F32;
  w.rows = rows;
  w.cols = cols;
  w.data = storage->data();
  w.owner = storage;
  return w;
}

void weight_row_to_f32(const WeightMatrix& w, int64_t row, float* out) {
  const int64_t k = w.cols;
  switch (w.format) {
    case WeightFormat::F32:
      std::memcpy(out, static_cast<const float*>(w.data) + row * k, k * 4);
      return;
    case WeightFormat::BF16:
      convert_to_f32(DType::BF16, static_cast<const uint16_t*>(w.data) + row * k, out, k);
      return;
    case WeightFormat::F16:
      convert_to_f32(DType::F16, static_cast<const uint16_t*>(w.data) + row * k, out, k);
      return;
    case WeightFormat::Q8:
    case WeightFormat::Q4:
      dequantize_row(w, row, out);
      return;
  }
}

void matmul_reference(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    weight_row_to_f32(w, n, row.data());
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * w.cols;
      float acc = 0.0f;
      for (int64_t k = 0; k < w.cols; ++k) acc += xi[k] * row[k];
      y[i * w.rows + n] = acc + (bias ? bias[n] : 0.0f);
    }
  }
}

namespace {

// Portable float path for rows [n0, n1) (no bias): widen a block of weight
// rows once, then dot it with every input row.
void float_matmul_scalar(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  constexpr int64_t kRowBlock = 16;
  std::vector<float> rows(static_cast<size_t>(kRowBlock * w.cols));
  for (int64_t b0 = n0; b0 < n1; b0 += kRowBlock) {
    const int64_t b1 = std::min(n1, b0 + kRowBlock);
    for (int64_t n = b0; n < b1; ++n) weight_row_to_f32(w, n, rows.data() + (n - b0) * w.cols);
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * w.cols;
      for (int64_t n = b0; n < b1; ++n) {
        const float* wr = rows.data() + (n - b0) * w.cols;
        float acc = 0.0f;
        for (int64_t k = 0; k < w.cols; ++k) acc += xi[k] * wr[k];
        y[i * w.rows + n] = acc;
      }
    }
  }
}

void add_bias(const float* bias, int64_t m, int64_t rows, int64_t n0, int64_t n1, float* y) {
  if (!bias) return;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = n0; n < n1; ++n) y[i * rows + n] += bias[n];
}

}  // namespace

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool) {
  check(w.data != nullptr, "matmul: weight has no data");
  if (m <= 0 || w.rows <= 0) return;
  const IsaLevel isa = active_isa_level();
  if (m == 1 && isa != IsaLevel::Scalar) {
    // Decode GEMV: kernels/matmul_multi.cpp owns the single-row path.
    const LinearOutput one{&w, bias, y};
    matmul_multi(x, 1, std::span<const LinearOutput>(&one, 1), pool);
    return;
  }
  const kernels::MatmulKernels* simd = kernels::matmul_kernels_for(isa);
  if (w.format == WeightFormat::Q8 || w.format == WeightFormat::Q4) {
    // Activations are quantized once per call; the buffer is reused across
    // calls made from the same thread. (A named reference: inside the lambda
    // a thread_local name would denote the worker's own, empty, instance.)
    thread_local QuantizedActivations per_thread_activations;
    QuantizedActivations& activations = per_thread_activations;
    quantize_activations(x, m, w.cols, activations, &pool);
    // Chunks of an even number of tiles (the AVX-512 kernel pairs tiles so
    // one activation broadcast feeds two weight vectors), about eight per
    // thread, claimed as threads come free: a thread the OS delays (a busy
    // machine) leaves its share to the others instead of holding the loop.
    const int64_t tiles = quant_tiles(w.rows);
    const int64_t per_chunk = std::max<int64_t>(1, tiles / (8 * static_cast<int64_t>(pool.size())) / 2) * 2;
    pool.parallel_chunks(tiles, per_chunk, [&](int64_t t0, int64_t t1) {
      if (simd) simd->quant_gemm(activations, w, t0, t1, y);
      else quantized_matmul_tiles_scalar(activations, w, t0, t1, y);
      add_bias(bias, m, w.rows, t0 * kQuantTileRows, std::min(w.rows, t1 * kQuantTileRows), y);
    });
    return;
  }
  pool.parallel_for(w.rows, kernels::kFloatPanelRows, [&](int64_t n0, int64_t n1) {
    if (simd) simd->float_gemm(x, m, w, n0, n1, y);
    else float_matmul_scalar(x, m, w, n0, n1, y);
    add_bias(bias, m, w.rows, n0, n1, y);
  });
}

void matmul_leading_rows(const float* x, int64_t m, const WeightMatrix& w, int64_t rows_out, float* y,
                         ThreadPool& pool, bool rows_alone) {
  check(rows_out > 0 && rows_out <= w.rows, "matmul_leading_rows: " + std::to_string(rows_out) +
                                                " rows asked of a weight with " + std::to_string(w.rows));
  const auto product = [&](const WeightMatrix& v, float* out) {
    const LinearOutput one{&v, nullptr, out};
    if (rows_alone) matmul_multi_rowwise(x, m, std::span<const LinearOutput>(&one, 1), pool);
    else matmul(x, m, v, nullptr, out, pool);
  };
  if (rows_out == w.rows) {
    product(w, y);
    return;
  }
  if (w.format == WeightFormat::F32 || w.format == WeightFormat::BF16 || w.format == WeightFormat::F16) {
    // Row-major [rows, cols]: the leading rows are a view of the same data.
    WeightMatrix leading = w;
    leading.rows = rows_out;
    product(leading, y);
    return;
  }
  // Tiles of 16 rows interleave their scales: no row-prefix view exists.
  std::vector<float> full(static_cast<size_t>(m * w.rows));
  product(w, full.data());
  for (int64_t r = 0; r < m; ++r)
    std::memcpy(y + r * rows_out, full.data() + r * w.rows, static_cast<size_t>(rows_out) * sizeof(float));
}

void weight_rows_to_f32(const WeightMatrix& w, std::span<const int32_t> rows, float* out, ThreadPool& pool) {
  for (const int32_t r : rows)
    check(r >= 0 && r < w.rows, "weight row " + std::to_string(r) + " outside [0, " + std::to_string(w.rows) + ")");
  const int64_t n = static_cast<int64_t>(rows.size());
  const auto widen = [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) weight_row_to_f32(w, rows[i], out + i * w.cols);
  };
  if (n <= 1) widen(0, n);
  else pool.parallel_for(n, 1, widen);
}

}  // namespace qwen3vl
