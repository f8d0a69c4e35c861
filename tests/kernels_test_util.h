// Helpers shared by the kernel tests: random matrices in every float format,
// the ISA levels this machine can run, and a scoped ISA cap.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
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

inline std::vector<IsaLevel> available_isa_levels() {
  std::vector<IsaLevel> levels;
  for (IsaLevel l : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::Avx512})
    if (l <= detected_isa_level()) levels.push_back(l);
  return levels;
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
