// The attention kernels (scalar row path and the AVX-512 blocked path)
// against the two-pass reference, on odd sizes: query/key counts that are not
// multiples of the blocks, causal with and without an offset, GQA, and
// head_dim 64 / 128 / 80 (80 is not a multiple of 64: partial value chunks)
// and 72 / 36 (72: the 8B/30B-A3B vision tower's; neither a multiple of
// AVX-512's 16 lanes: they run zero-padded).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/attention.h"

namespace qwen3vl {
namespace {

struct Case {
  int64_t n_q, n_kv;
  int heads, kv_heads, head_dim;
  bool causal;
};

void check_case(const Case& c, IsaLevel isa, bool allow_bf16 = false) {
  AttentionShape s;
  s.n_q = c.n_q;
  s.n_kv = c.n_kv;
  s.n_heads = c.heads;
  s.n_kv_heads = c.kv_heads;
  s.head_dim = c.head_dim;
  s.q_stride = static_cast<int64_t>(c.heads) * c.head_dim + 3;  // padded rows: strides are honoured
  s.kv_stride = static_cast<int64_t>(c.kv_heads) * c.head_dim + 5;
  s.out_stride = static_cast<int64_t>(c.heads) * c.head_dim + 1;
  s.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  s.causal = c.causal;
  s.q_offset = c.causal ? c.n_kv - c.n_q : 0;
  s.inputs_format = allow_bf16 ? WeightFormat::Q8 : WeightFormat::F32;
  // Spread large enough that the softmax is far from uniform (scores of several units).
  const auto q = testing::random_values(static_cast<size_t>(c.n_q * s.q_stride), 1, -2.0f, 2.0f);
  const auto k = testing::random_values(static_cast<size_t>(c.n_kv * s.kv_stride), 2, -2.0f, 2.0f);
  const auto v = testing::random_values(static_cast<size_t>(c.n_kv * s.kv_stride), 3);
  std::vector<float> got(static_cast<size_t>(c.n_q * s.out_stride), 7.0f), want(got);
  ThreadPool pool(2);
  attention(q.data(), k.data(), v.data(), s, got.data(), pool);
  attention_reference(q.data(), k.data(), v.data(), s, want.data());
  for (int64_t i = 0; i < c.n_q; ++i)
    for (int64_t j = 0; j < s.out_stride; ++j) {
      const float w = want[i * s.out_stride + j], g = got[i * s.out_stride + j];
      if (j >= static_cast<int64_t>(c.heads) * c.head_dim) {
        ASSERT_EQ(g, 7.0f) << "padding column written, row " << i;  // untouched
      } else {
        // bf16 rounds q, k, v and the weights to 8 significant bits (2^-9
        // relative each); outputs are weighted means of v in [-1, 1], so the
        // error stays within ~1e-2 absolute for these score spreads.
        const float tol = allow_bf16 ? 1.5e-2f : 2e-5f + 2e-5f * std::fabs(w);
        ASSERT_NEAR(g, w, tol)
            << "isa " << isa_level_name(isa) << " n_q " << c.n_q << " n_kv " << c.n_kv << " row " << i << " col " << j;
      }
    }
}

class AttentionKernel : public testing::IsaLevelTest {};
QWEN3VL_ALL_ISA_LEVELS(AttentionKernel);

TEST_P(AttentionKernel, MatchesReferenceOnOddShapes) {
  const std::vector<Case> cases = {
      {1, 1, 2, 1, 64, true},      {1, 37, 4, 2, 128, true},   {17, 17, 2, 2, 64, false},
      {70, 133, 3, 1, 64, false},  {65, 65, 2, 1, 128, true},  {100, 230, 4, 2, 64, true},
      {19, 50, 2, 2, 80, false},   {129, 129, 1, 1, 80, true},  {33, 95, 2, 2, 72, false},
      {70, 70, 3, 3, 72, true},    {40, 90, 2, 1, 36, false},
  };
  for (const Case& c : cases) check_case(c, isa());
}

// head_dim 72 runs in the blocked kernels at every SIMD level (zero-padded
// to 80 for AVX-512's 16 lanes), not in the ~20x slower scalar row loop; too
// few queries stay scalar.
TEST_P(AttentionKernel, VisionHeadDim72RunsVectorised) {
  AttentionShape s;
  s.n_q = s.n_kv = 1024;
  s.n_heads = s.n_kv_heads = 16;
  s.head_dim = 72;
  EXPECT_EQ(attention_kernel_head_dim(s), isa() == IsaLevel::Scalar ? 0 : isa() == IsaLevel::Avx2 ? 72 : 80);
  s.head_dim = 64;
  EXPECT_EQ(attention_kernel_head_dim(s), isa() == IsaLevel::Scalar ? 0 : 64);
  s.head_dim = 36;
  EXPECT_EQ(attention_kernel_head_dim(s), isa() == IsaLevel::Scalar ? 0 : isa() == IsaLevel::Avx2 ? 40 : 48);
  s.head_dim = 72;
  s.n_q = 3;
  EXPECT_EQ(attention_kernel_head_dim(s), 0);
}

// allow_bf16: the BF16 kernel where the CPU has it and the measured choice
// prefers it (head_dim padded to a multiple of 32), the float32 kernels
// otherwise; close to the reference either way.
TEST_P(AttentionKernel, Bf16ProductsStayCloseToReference) {
  const std::vector<Case> cases = {
      {70, 133, 3, 1, 64, false}, {65, 65, 2, 1, 128, true}, {100, 231, 4, 2, 64, true}, {19, 50, 2, 2, 80, false},
      {131, 200, 2, 2, 64, false},  // several full key blocks, partial row groups
      {40, 90, 2, 1, 96, true},     // a 64-wide and a 32-wide value chunk
      {50, 120, 2, 2, 72, false}};  // zero-padded to 96 for the bf16 kernel
  for (const Case& c : cases) check_case(c, isa(), true);
}

}  // namespace
}  // namespace qwen3vl
