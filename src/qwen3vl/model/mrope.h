// Interleaved multimodal rotary position embedding (M-RoPE) of Qwen3-VL's
// text decoder. Every token has three positions (temporal, height, width).
// Frequency slot i of the head_dim/2 rotary pairs normally rotates by the
// temporal position; slots 1,4,7,... (below 3*section[1]) use the height
// position and slots 2,5,8,... (below 3*section[2]) the width position, so
// each axis gets frequencies spread over the whole spectrum rather than one
// contiguous band. For text tokens all three positions are equal and this is
// plain RoPE.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace qwen3vl {

class MRope {
 public:
  // section: (t, h, w) pair counts, summing to head_dim / 2.
  MRope(int head_dim, double theta, std::array<int, 3> section);

  int head_dim() const { return head_dim_; }
  // Per rotary slot: its inverse frequency and the position row driving it
  // (an exported graph builds its tables from these).
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  const std::vector<uint8_t>& slot_axes() const { return axis_; }

  // cos and sin, each [n, head_dim]: the per-slot angles repeated for both
  // halves (the layout rotate_half expects). positions = rows t, h, w of n
  // entries each.
  void tables(const std::array<std::span<const int32_t>, 3>& positions, float* cos, float* sin) const;

 private:
  int head_dim_;
  std::vector<float> inv_freq_;  // [head_dim / 2], float32 like the reference
  std::vector<uint8_t> axis_;    // [head_dim / 2]: which position row (0 t, 1 h, 2 w) drives each slot
};

}  // namespace qwen3vl
