// Comparing a `dump` output with a golden safetensors file, tensor by tensor.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qwen3vl/io/safetensors.h"

namespace qwen3vl::testing {

// The values of an int64 tensor.
inline std::vector<int64_t> dumped_ints(const TensorView& t) {
  EXPECT_EQ(t.dtype, DType::I64) << t.name;
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  std::memcpy(v.data(), t.data, v.size() * sizeof(int64_t));
  return v;
}

// Largest absolute difference of tensor `name` between the two files (a
// failure, and a huge value, when `mine` lacks it or the sizes differ).
inline float dumped_max_diff(const SafetensorsFile& mine, const SafetensorsFile& gold, const std::string& name) {
  EXPECT_TRUE(mine.has(name)) << name;
  if (!mine.has(name)) return 1e9f;
  const auto a = mine.get(name).to_f32(), b = gold.get(name).to_f32();
  EXPECT_EQ(a.size(), b.size()) << name;
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return a.size() == b.size() ? m : 1e9f;
}

}  // namespace qwen3vl::testing
