#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {
namespace {

using testing::cosine_similarity;
using testing::make_weight;
using testing::random_values;
using testing::ScopedIsaCap;

ThreadPool& two_threads() {
  static ThreadPool pool(2);
  return pool;
}

// Each kernel level against an independent reference (scalar included).
class KernelsMatmulIsa : public testing::IsaLevelTest {};
QWEN3VL_ALL_ISA_LEVELS(KernelsMatmulIsa);
// SIMD levels against the scalar kernel.
class KernelsMatmulSimd : public testing::IsaLevelTest {};
QWEN3VL_SIMD_ISA_LEVELS(KernelsMatmulSimd);

struct Shape {
  int64_t m, rows, cols;
};

std::vector<Shape> odd_shapes() {
  std::vector<Shape> shapes;
  for (int64_t m : {1, 2, 3, 7, 10, 33})
    for (int64_t rows : {1, 17, 129})
      for (int64_t cols : {1, 17, 32, 96, 160, 4096 + 32}) shapes.push_back({m, rows, cols});
  shapes.push_back({5, 64, 4096 + 17});
  // Many rows and a long K: the cache-blocked paths (row blocks of 256 with a
  // partial last one, K chunks with a partial last one).
  shapes.push_back({300, 40, 1100});
  return shapes;
}

std::string describe(WeightFormat f, IsaLevel isa, const Shape& s) {
  return std::string(weight_format_name(f)) + " " + isa_level_name(isa) + " m=" + std::to_string(s.m) +
         " rows=" + std::to_string(s.rows) + " cols=" + std::to_string(s.cols);
}

// Float formats: the fast kernels reorder the float32 sum (SIMD lanes, several
// accumulators, FMA). Both sums carry a rounding error of at most
// ~cols·ε·Σ|x·w| in the worst case and ~sqrt(cols)·ε·Σ|x·w| typically
// (ε = 6e-8); for cols ≤ 4128 that is ≤ 4e-6·Σ|x·w|, so 1e-5·Σ|x·w| (+ the
// bias, added once in both) is a bound with margin. A wrong index or a
// missing term moves the result by ~1/cols of Σ|x·w|, far above it.
TEST_P(KernelsMatmulIsa, FloatFormatsMatchReference) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::F16}) {
    {
      uint32_t seed = 1;
      for (const Shape& s : odd_shapes()) {
        const auto x = random_values(s.m * s.cols, seed++);
        const WeightMatrix w = make_weight(f, s.rows, s.cols, random_values(s.rows * s.cols, seed++));
        const auto bias = random_values(s.rows, seed++);
        const float* b = (seed % 2) ? bias.data() : nullptr;
        std::vector<float> y(s.m * s.rows, NAN), ref(s.m * s.rows);
        matmul(x.data(), s.m, w, b, y.data(), two_threads());
        matmul_reference(x.data(), s.m, w, b, ref.data());
        std::vector<float> row(s.cols);
        for (int64_t n = 0; n < s.rows; ++n) {
          weight_row_to_f32(w, n, row.data());
          for (int64_t i = 0; i < s.m; ++i) {
            double magnitude = 0;
            for (int64_t k = 0; k < s.cols; ++k) magnitude += std::fabs(x[i * s.cols + k] * row[k]);
            const double tol = 1e-5 * magnitude + 1e-6 * (b ? std::fabs(b[n]) : 0.0) + 1e-30;
            ASSERT_NEAR(y[i * s.rows + n], ref[i * s.rows + n], tol)
                << describe(f, isa, s) << " at (" << i << ", " << n << ")";
          }
        }
      }
    }
  }
}

// Quantized formats: every ISA performs exactly the operations of the scalar
// quantized reference (exact integer dots, then the same float FMA per block
// in the same order), so the results must be identical.
TEST_P(KernelsMatmulSimd, QuantizedKernelsMatchScalarQuantizedMathExactly) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    {
      uint32_t seed = 100;
      for (const Shape& s : odd_shapes()) {
        const auto x = random_values(s.m * s.cols, seed++);
        const WeightMatrix w =
            quantize_weight(make_f32_weight(s.rows, s.cols, random_values(s.rows * s.cols, seed++)), f);
        const auto bias = random_values(s.rows, seed++);
        const float* b = (seed % 2) ? bias.data() : nullptr;
        std::vector<float> y(s.m * s.rows, NAN), ref(s.m * s.rows);
        matmul(x.data(), s.m, w, b, y.data(), two_threads());
        quantized_matmul_reference(x.data(), s.m, w, b, ref.data());
        for (size_t e = 0; e < y.size(); ++e)
          ASSERT_EQ(y[e], ref[e]) << describe(f, isa, s) << " at element " << e;
      }
    }
  }
}

// Integer extremes: every weight at the lowest or highest stored level
// (Q4 -8 / +7, Q8 -127 / +127, scale 1) against activations that all
// quantize to +127 or -127. The AVX2 kernels sum vpmaddubsw products in
// int16 (Q4: a whole group per lane), so these are the values that would
// saturate them; the results must still equal the scalar reference, and
// the hand-derived value y = cols · q · (±1) (s = 1/127, d = 1).
TEST_P(KernelsMatmulSimd, QuantizedKernelsAreExactAtTheIntegerExtremes) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    const int low = f == WeightFormat::Q8 ? -127 : -8, high = f == WeightFormat::Q8 ? 127 : 7;
    // m = 1 is the decode GEMV, 9 the GEMM with a partial tile of rows.
    for (const Shape& s : {Shape{1, 33, 4096 + 17}, Shape{9, 33, 4096 + 17}, Shape{9, 17, 64}}) {
      const int64_t tiles = quant_tiles(s.rows), groups = quant_groups(s.cols);
      const size_t block = quant_block_bytes(f);
      auto storage = std::make_shared<std::vector<uint8_t>>(quantized_weight_bytes(f, s.rows, s.cols));
      // Row r of every tile: the low level if r is even, else the high one.
      for (int64_t b = 0; b < tiles * groups; ++b) {
        uint8_t* blk = storage->data() + b * block;
        for (int r = 0; r < kQuantTileRows; ++r) {
          const uint16_t one = f32_to_f16(1.0f);
          std::memcpy(blk + 2 * r, &one, 2);
          const int q = r % 2 == 0 ? low : high;
          const uint8_t byte = f == WeightFormat::Q8 ? static_cast<uint8_t>(q + 128)
                                                     : static_cast<uint8_t>((q + 8) | ((q + 8) << 4));
          const int chunks = f == WeightFormat::Q8 ? 8 : 4;
          for (int c = 0; c < chunks; ++c)
            for (int j = 0; j < 4; ++j) blk[kQuantScaleBytes + 64 * c + 4 * r + j] = byte;
        }
      }
      const WeightMatrix w = quantized_weight_over(f, s.rows, s.cols, storage);
      // Activation row i: all +1 if i is even, else all -1.
      std::vector<float> x(s.m * s.cols);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t k = 0; k < s.cols; ++k) x[i * s.cols + k] = i % 2 == 0 ? 1.0f : -1.0f;
      std::vector<float> y(s.m * s.rows, NAN), ref(s.m * s.rows);
      matmul(x.data(), s.m, w, nullptr, y.data(), two_threads());
      quantized_matmul_reference(x.data(), s.m, w, nullptr, ref.data());
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t r = 0; r < s.rows; ++r) {
          const size_t e = i * s.rows + r;
          ASSERT_EQ(y[e], ref[e]) << describe(f, isa, s) << " at row " << i << ", output " << r;
          const double expected = static_cast<double>(s.cols) * (r % 2 == 0 ? low : high) * (i % 2 == 0 ? 1 : -1);
          ASSERT_NEAR(y[e], expected, 1e-4 * std::abs(expected)) << describe(f, isa, s);
        }
    }
  }
}

// Against the unquantized float result on random data: q8 keeps ~8 bits per
// weight and activation (relative error ~0.5%), q4 ~4 bits (relative error
// ~7% per weight for uniform data, so cosine ≈ 1 - 0.07²/2 ≈ 0.997).
TEST(KernelsMatmul, QuantizedResultsStayCloseToFloat) {
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    const double min_cosine = f == WeightFormat::Q8 ? 0.999 : 0.99;
    uint32_t seed = 500;
    for (const Shape& s : odd_shapes()) {
      // The cosine is a statistic: it needs enough terms and outputs.
      if (s.cols < 32 || s.m * s.rows < 17) continue;
      const auto x = random_values(s.m * s.cols, seed++);
      const WeightMatrix wf = make_f32_weight(s.rows, s.cols, random_values(s.rows * s.cols, seed++));
      const WeightMatrix wq = quantize_weight(wf, f);
      std::vector<float> y(s.m * s.rows), ref(s.m * s.rows);
      matmul(x.data(), s.m, wq, nullptr, y.data(), two_threads());
      matmul_reference(x.data(), s.m, wf, nullptr, ref.data());
      EXPECT_GE(cosine_similarity(y, ref), min_cosine) << describe(f, active_isa_level(), s);
    }
  }
}

TEST(KernelsMatmul, SingleThreadAndPoolAgree) {
  ThreadPool one(1);
  const Shape s{9, 200, 300};
  const auto x = random_values(s.m * s.cols, 7);
  for (WeightFormat f : {WeightFormat::BF16, WeightFormat::Q4}) {
    WeightMatrix w = make_weight(WeightFormat::F32, s.rows, s.cols, random_values(s.rows * s.cols, 8));
    if (f == WeightFormat::BF16) w = make_weight(f, s.rows, s.cols, random_values(s.rows * s.cols, 8));
    else w = quantize_weight(w, f);
    std::vector<float> a(s.m * s.rows), b(s.m * s.rows);
    matmul(x.data(), s.m, w, nullptr, a.data(), one);
    matmul(x.data(), s.m, w, nullptr, b.data(), two_threads());
    EXPECT_EQ(a, b) << weight_format_name(f);
  }
}

TEST_P(KernelsMatmulIsa, HandComputedSmallProduct) {
  // W = [[1, 2, 3], [-1, 0.5, 4]], x = [[1, 1, 1], [2, 0, -1]], bias = [10, 20]
  const WeightMatrix w = make_f32_weight(2, 3, {1, 2, 3, -1, 0.5f, 4});
  const std::vector<float> x = {1, 1, 1, 2, 0, -1}, bias = {10, 20};
  std::vector<float> y(4);
  matmul(x.data(), 2, w, bias.data(), y.data(), two_threads());
  EXPECT_EQ(y, (std::vector<float>{16, 23.5f, 9, 14}));
  matmul(x.data(), 1, w, bias.data(), y.data(), two_threads());  // one row: the GEMV path
  EXPECT_EQ(y[0], 16.0f);
  EXPECT_EQ(y[1], 23.5f);
}

}  // namespace
}  // namespace qwen3vl
