// Helpers shared by the kernel tests: random matrices in every float format,
// a scoped ISA cap, and test suites parameterised by ISA level.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl::testing {

inline std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// A weight in `format` (F32/BF16/F16) holding `values` rounded to that format.
inline WeightMatrix make_weight(WeightFormat format, int64_t rows, int64_t cols, const std::vector<float>& values) {
  if (format == WeightFormat::F32) return make_f32_weight(rows, cols, values);
  auto storage = std::make_shared<std::vector<uint16_t>>(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    (*storage)[i] = format == WeightFormat::BF16 ? f32_to_bf16(values[i]) : f32_to_f16(values[i]);
  WeightMatrix w;
  w.format = format;
  w.rows = rows;
  w.cols = cols;
  w.data = storage->data();
  w.owner = storage;
  return w;
}

class ScopedIsaCap {
 public:
  explicit ScopedIsaCap(IsaLevel cap) : previous_(set_isa_level_cap(cap)) {}
  ~ScopedIsaCap() { set_isa_level_cap(previous_); }
  ScopedIsaCap(const ScopedIsaCap&) = delete;
  ScopedIsaCap& operator=(const ScopedIsaCap&) = delete;

 private:
  IsaLevel previous_;
};

// A test suite run once per ISA level, with the kernels capped to it. On a
// CPU without the level the instance is skipped, saying why, rather than
// silently testing a lower level again. Instantiate with
// QWEN3VL_ALL_ISA_LEVELS (scalar too: for kernels checked against an
// independent reference) or QWEN3VL_SIMD_ISA_LEVELS (for comparisons with
// the scalar kernel, which would compare it with itself).
class IsaLevelTest : public ::testing::TestWithParam<IsaLevel> {
 protected:
  void SetUp() override {
    if (GetParam() > detected_isa_level())
      GTEST_SKIP() << "this CPU cannot run " << isa_level_name(GetParam()) << " kernels (best level: "
                   << isa_level_name(detected_isa_level()) << ")";
    cap_.emplace(GetParam());
  }
  IsaLevel isa() const { return GetParam(); }

 private:
  std::optional<ScopedIsaCap> cap_;
};

inline std::string isa_test_name(const ::testing::TestParamInfo<IsaLevel>& info) {
  return isa_level_name(info.param);
}

#define QWEN3VL_ALL_ISA_LEVELS(Suite)                                                                     \
  INSTANTIATE_TEST_SUITE_P(Isa, Suite,                                                                    \
                           ::testing::Values(::qwen3vl::IsaLevel::Scalar, ::qwen3vl::IsaLevel::Avx2,      \
                                             ::qwen3vl::IsaLevel::Avx512),                                \
                           ::qwen3vl::testing::isa_test_name)
#define QWEN3VL_SIMD_ISA_LEVELS(Suite)                                                                    \
  INSTANTIATE_TEST_SUITE_P(Isa, Suite, ::testing::Values(::qwen3vl::IsaLevel::Avx2, ::qwen3vl::IsaLevel::Avx512), \
                           ::qwen3vl::testing::isa_test_name)

inline double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace qwen3vl::testing
