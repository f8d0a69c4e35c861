#include "qwen3vl/model/mrope.h"

#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

MRope::MRope(int head_dim, double theta, std::array<int, 3> section) : head_dim_(head_dim) {
  check(head_dim > 0 && head_dim % 2 == 0, "M-RoPE: head_dim must be positive and even, got " +
                                               std::to_string(head_dim));
  const int half = head_dim / 2;
  check(section[0] >= 0 && section[1] >= 0 && section[2] >= 0 && section[0] + section[1] + section[2] == half,
        "M-RoPE: mrope_section must sum to head_dim/2 = " + std::to_string(half));
  inv_freq_.resize(half);
  axis_.assign(half, 0);
  for (int i = 0; i < half; ++i) {
    // The reference computes theta^(2i/d) and its reciprocal in float32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    const float power = static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
    inv_freq_[i] = 1.0f / power;
  }
  // Height then width overwrite their interleaved slots of the temporal layout.
  for (int axis = 1; axis <= 2; ++axis)
    for (int i = axis; i < 3 * section[axis] && i < half; i += 3) axis_[i] = static_cast<uint8_t>(axis);
}

void MRope::tables(const std::array<std::span<const int32_t>, 3>& positions, float* cos, float* sin) const {
  const size_t n = positions[0].size();
  check(positions[1].size() == n && positions[2].size() == n,
        "M-RoPE: the t, h and w position rows differ in length");
  const int half = head_dim_ / 2;
  for (size_t r = 0; r < n; ++r) {
    float* c = cos + r * head_dim_;
    float* s = sin + r * head_dim_;
    for (int i = 0; i < half; ++i) {
      const float pos = static_cast<float>(positions[axis_[i]][r]);
      const float angle = inv_freq_[i] * pos;  // float32 product, as the reference
      const float ci = static_cast<float>(std::cos(static_cast<double>(angle)));
      const float si = static_cast<float>(std::sin(static_cast<double>(angle)));
      c[i] = c[i + half] = ci;
      s[i] = s[i + half] = si;
    }
  }
}

}  // namespace qwen3vl
