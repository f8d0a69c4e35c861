// Everything about a batch of images that depends only on their grids,
// computed once on the host as plain arrays: which rows of the learned
// position table each patch blends (and how much), the 2-D rotary cos/sin of
// each patch, and which patches attend to each other. The native encoder
// consumes these arrays; an exported graph is fed the very same arrays, so the
// two paths cannot drift apart and no graph carries shapes traced from an
// example.
//
// Patch order everywhere is the order of pixel_values rows: per image, per
// temporal patch, then (h/m, w/m, m, m) — each m x m merge block's patches are
// consecutive, so the merger can view 4 neighbouring rows as one token.
#pragma once
#include <cstdint>
#include <vector>

#include "qwen3vl/model/model_config.h"
#include "qwen3vl/tensor/vision_grid.h"

namespace qwen3vl {

struct VisionInputsSpec {
  int position_table_side = 48;  // the learned table holds side x side rows
  int merge_size = 2;
  int head_dim = 64;             // per attention head; the rotary covers all of it
  float rope_theta = 10000.0f;

  static VisionInputsSpec from_config(const VisionConfig& c);
};

struct VisionInputs {
  static constexpr int kCorners = 4;  // bilinear: (floor,floor) (floor,ceil) (ceil,floor) (ceil,ceil)

  std::vector<VisionGrid> grids;
  int64_t num_patches = 0;
  int head_dim = 0;

  // Learned position embedding of patch p = sum_c pos_weight[p*4+c] * table[pos_index[p*4+c]].
  std::vector<int64_t> pos_index;  // [num_patches, 4]
  std::vector<float> pos_weight;   // [num_patches, 4]

  // 2-D rotary per patch, [num_patches, head_dim]: the first half holds the
  // row-position angles then the column-position angles; the second half
  // repeats the first (applied with rotate_half).
  std::vector<float> rope_cos;
  std::vector<float> rope_sin;

  // Attention segments: patches [cu_seqlens[s], cu_seqlens[s+1]) attend only
  // to each other (one segment per image and per temporal patch of a video).
  std::vector<int64_t> cu_seqlens;

  int64_t num_segments() const { return static_cast<int64_t>(cu_seqlens.size()) - 1; }
};

// The 2-D rotary's inverse frequencies, [head_dim / 4] (shared by rows and
// columns): 1 / theta^(2j / (head_dim/2)) in float32, as the reference.
std::vector<float> vision_rotary_inv_freq(const VisionInputsSpec& spec);

// Throws Error for an invalid grid (naming the image) or spec.
VisionInputs compute_vision_inputs(const std::vector<VisionGrid>& grids, const VisionInputsSpec& spec);

// torch.linspace(start, end, steps) in float32 with its scalar arithmetic:
// the first half counts up from start, the second half down from end.
std::vector<float> linspace_f32(float start, float end, int64_t steps);

}  // namespace qwen3vl
