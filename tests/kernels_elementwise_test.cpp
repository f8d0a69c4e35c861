// Elementwise kernels: every ISA path (AVX-512 when present) against the
// scalar one, on odd sizes (masked tails), on one and two threads;
// plus hand-derived values that pin the scalar formulas themselves.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels_test_util.h"
#include "test_pool.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/elementwise.h"

namespace qwen3vl {
namespace {

using Fn = void (*)(std::vector<float>& out, ThreadPool& pool);

// Runs `fn` with the ISA capped to scalar (reference) and at the test's
// level (on one and two threads), and compares relative to the values'
// size. Tolerance: rel_tol · |want| + abs_tol.
template <class F>
void compare_paths(F&& fn, float rel_tol, float abs_tol, const char* what) {
  ThreadPool one(1), two(2);
  std::vector<float> want;
  {
    testing::ScopedIsaCap cap(IsaLevel::Scalar);
    fn(want, one);
  }
  for (ThreadPool* p : {&one, &two}) {
    std::vector<float> got;
    fn(got, *p);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], rel_tol * std::fabs(want[i]) + abs_tol)
          << what << " isa " << isa_level_name(active_isa_level()) << " index " << i;
  }
}

class ElementwiseSimd : public testing::IsaLevelTest {};
QWEN3VL_SIMD_ISA_LEVELS(ElementwiseSimd);
class ElementwiseIsa : public testing::IsaLevelTest {};
QWEN3VL_ALL_ISA_LEVELS(ElementwiseIsa);

TEST_P(ElementwiseSimd, NormsMatchScalarOnOddSizes) {
  for (int64_t dim : {1, 15, 17, 100, 1031}) {
    const int64_t rows = 37;
    const auto x = testing::random_values(static_cast<size_t>(rows * dim), 11, -3.0f, 5.0f);
    const auto w = testing::random_values(static_cast<size_t>(dim), 12);
    const auto b = testing::random_values(static_cast<size_t>(dim), 13);
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out.assign(x.size(), 0.0f);
      rms_norm(x.data(), w.data(), 1e-6f, rows, dim, out.data(), p);
    }, 2e-6f, 1e-6f, "rms_norm");
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out.assign(x.size(), 0.0f);
      layer_norm(x.data(), w.data(), b.data(), 1e-6f, rows, dim, out.data(), p);
    }, 2e-6f, 2e-6f, "layer_norm");
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out = x;
      layer_norm(out.data(), w.data(), nullptr, 1e-6f, rows, dim, out.data(), p);  // in place, no bias
    }, 2e-6f, 2e-6f, "layer_norm in place");
  }
}

TEST_P(ElementwiseSimd, ActivationsMatchScalarOnOddSizes) {
  for (int64_t n : {1, 13, 16, 33, 70001}) {
    // Wide range: saturated tails of the activations are covered too.
    const auto x = testing::random_values(static_cast<size_t>(n), 21, -12.0f, 12.0f);
    const auto u = testing::random_values(static_cast<size_t>(n), 22);
    // gelu_tanh against the formula in double precision: both paths use the
    // cancellation-free form, so even the far negative tail is accurate.
    std::vector<float> g = x;
    gelu_tanh_inplace(g.data(), n, testing::test_pool());
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[i], uu = 0.7978845608028654 * (v + 0.044715 * v * v * v);
      const double stable = v / (1.0 + std::exp(-2.0 * uu));
      // In the negative tail e^(-2u) has a large argument whose float
      // rounding alone costs |2u|·ε relative (2e-6 at x = -5, where the
      // output is ~1e-6), so the bound is 4e-6 relative, and outputs below
      // 1e-12 (far under any tolerance) are compared absolutely.
      ASSERT_NEAR(g[i], stable, 4e-6 * std::fabs(stable) + 1e-12) << "x = " << x[i];
    }
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out = x;
      gelu_tanh_inplace(out.data(), n, p);
    }, 4e-6f, 1e-12f, "gelu_tanh");
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out = x;
      gelu_erf_inplace(out.data(), n, p);
    }, 0.0f, 0.0f, "gelu_erf");
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out.assign(x.size(), 0.0f);
      silu_mul(x.data(), u.data(), n, out.data(), p);
    }, 1e-6f, 1e-12f, "silu_mul");
    compare_paths([&](std::vector<float>& out, ThreadPool& p) {
      out = x;
      add_inplace(out.data(), u.data(), n, p);
    }, 0.0f, 0.0f, "add");
  }
}

TEST_P(ElementwiseIsa, HandDerivedValues) {
  {
    // gelu_tanh(1) = 0.5 (1 + tanh(√(2/π)·1.044715)) = 0.841191990...
    std::vector<float> g = {1.0f, 0.0f, -30.0f};
    gelu_tanh_inplace(g.data(), 3, testing::test_pool());
    EXPECT_NEAR(g[0], 0.8411920f, 1e-6f);
    EXPECT_EQ(g[1], 0.0f);
    EXPECT_NEAR(g[2], 0.0f, 1e-30f);
    // silu(2) * 3 = 6/(1 + e^-2) = 5.28478247...
    const float gate = 2.0f, up = 3.0f;
    float out = 0.0f;
    silu_mul(&gate, &up, 1, &out, testing::test_pool());
    EXPECT_NEAR(out, 5.2847825f, 2e-6f);
    // layer_norm of (1, 3): mean 2, var 1 -> (-1, 1) (eps 0).
    const float x[2] = {1.0f, 3.0f}, w[2] = {1.0f, 2.0f}, b[2] = {0.5f, 0.0f};
    float y[2];
    layer_norm(x, w, b, 0.0f, 1, 2, y, testing::test_pool());
    EXPECT_FLOAT_EQ(y[0], -0.5f);
    EXPECT_FLOAT_EQ(y[1], 2.0f);
  }
}

}  // namespace
}  // namespace qwen3vl
