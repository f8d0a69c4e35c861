#include "qwen3vl/kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "qwen3vl/base/error.h"
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
    case WeightFormat::Q8: return n + n / group_size * 4;
    case WeightFormat::Q4: return n / 2 + n / group_size * 4;
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
    default:
      throw Error(std::string("weight_row_to_f32: format ") + weight_format_name(w.format) +
                  " not implemented");
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

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool) {
  // Portable path: widen a block of weight rows, then dot with every input row.
  // Replaced per format and ISA by the dispatching kernels in this folder.
  constexpr int64_t kRowBlock = 16;
  pool.parallel_for(w.rows, kRowBlock, [&](int64_t r0, int64_t r1) {
    std::vector<float> rows(static_cast<size_t>((r1 - r0) * w.cols));
    for (int64_t n = r0; n < r1; ++n) weight_row_to_f32(w, n, rows.data() + (n - r0) * w.cols);
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * w.cols;
      for (int64_t n = r0; n < r1; ++n) {
        const float* wr = rows.data() + (n - r0) * w.cols;
        float acc = 0.0f;
        for (int64_t k = 0; k < w.cols; ++k) acc += xi[k] * wr[k];
        y[i * w.rows + n] = acc + (bias ? bias[n] : 0.0f);
      }
    }
  });
}

}  // namespace qwen3vl
