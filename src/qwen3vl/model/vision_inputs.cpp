#include "qwen3vl/model/vision_inputs.h"

#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

VisionInputsSpec VisionInputsSpec::from_config(const VisionConfig& c) {
  VisionInputsSpec s;
  s.position_table_side = static_cast<int>(std::lround(std::sqrt(double(c.num_position_embeddings))));
  check(int64_t(s.position_table_side) * s.position_table_side == c.num_position_embeddings,
        "vision config: num_position_embeddings " + std::to_string(c.num_position_embeddings) +
            " is not a perfect square");
  s.merge_size = c.spatial_merge_size;
  check(c.num_heads > 0 && c.hidden_size % c.num_heads == 0,
        "vision config: hidden_size must be a multiple of num_heads");
  s.head_dim = c.head_dim();
  return s;
}

std::vector<float> linspace_f32(float start, float end, int64_t steps) {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(steps, 0)));
  if (steps == 1) out[0] = start;
  if (steps <= 1) return out;
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int64_t halfway = steps / 2;
  // Anchored at the start below `halfway` and at the end from it on, so both
  // ends are exact. (PyTorch's vectorised kernel derives runs of 8 values from
  // one anchored base, which moves a few coordinates by 1 ulp; that changes a
  // blended position embedding by < 1e-5, and even a floor flipped at an
  // integer coordinate blends to the same value, bilinear being continuous.)
  for (int64_t i = 0; i < steps; ++i)
    out[i] = i < halfway ? start + step * static_cast<float>(i) : end - step * static_cast<float>(steps - 1 - i);
  return out;
}

namespace {

// One axis of the align-corners bilinear map from `n` output positions onto
// a table side of `side` entries.
struct AxisSamples {
  std::vector<int64_t> lo, hi;  // floor and clamped floor+1
  std::vector<float> frac;      // weight of `hi`
};

AxisSamples sample_axis(int64_t n, int side) {
  AxisSamples a;
  const std::vector<float> coords = linspace_f32(0.0f, static_cast<float>(side - 1), n);
  for (float c : coords) {
    const int64_t lo = static_cast<int64_t>(c);  // coords are >= 0: truncation is floor
    a.lo.push_back(lo);
    a.hi.push_back(std::min<int64_t>(lo + 1, side - 1));
    a.frac.push_back(c - static_cast<float>(lo));
  }
  return a;
}

}  // namespace

std::vector<float> vision_rotary_inv_freq(const VisionInputsSpec& spec) {
  const int hd = spec.head_dim;
  std::vector<float> inv_freq(static_cast<size_t>(hd / 4));
  for (int j = 0; j < hd / 4; ++j) {
    const float exponent = static_cast<float>(2 * j) / static_cast<float>(hd / 2);
    inv_freq[j] = 1.0f / std::pow(spec.rope_theta, exponent);
  }
  return inv_freq;
}

VisionInputs compute_vision_inputs(const std::vector<VisionGrid>& grids, const VisionInputsSpec& spec) {
  check(spec.position_table_side >= 1, "vision inputs: position table side must be positive");
  check(spec.head_dim > 0 && spec.head_dim % 4 == 0,
        "vision inputs: head_dim " + std::to_string(spec.head_dim) +
            " must be a multiple of 4 (rotary splits half of it between rows and columns)");
  const int m = spec.merge_size;
  const int side = spec.position_table_side;
  const int hd = spec.head_dim;

  VisionInputs in;
  in.grids = grids;
  in.head_dim = hd;
  for (size_t i = 0; i < grids.size(); ++i) {
    validate_vision_grid(grids[i], m, "image " + std::to_string(i));
    in.num_patches += grids[i].patches();
  }
  const size_t n = static_cast<size_t>(in.num_patches);
  in.pos_index.resize(n * VisionInputs::kCorners);
  in.pos_weight.resize(n * VisionInputs::kCorners);
  in.rope_cos.resize(n * hd);
  in.rope_sin.resize(n * hd);

  // Rotary frequencies: a quarter of head_dim for rows, the same for columns.
  const int n_freq = hd / 4;
  const std::vector<float> inv_freq = vision_rotary_inv_freq(spec);

  in.cu_seqlens.push_back(0);
  int64_t p = 0;  // running patch index in merge-block order
  for (const VisionGrid& g : grids) {
    const AxisSamples rows = sample_axis(g.h, side);
    const AxisSamples cols = sample_axis(g.w, side);
    for (int64_t t = 0; t < g.t; ++t) {
      for (int64_t bh = 0; bh < g.h / m; ++bh)
        for (int64_t bw = 0; bw < g.w / m; ++bw)
          for (int r = 0; r < m; ++r)
            for (int c = 0; c < m; ++c, ++p) {
              const int64_t y = bh * m + r, x = bw * m + c;
              int64_t* idx = &in.pos_index[p * VisionInputs::kCorners];
              float* wt = &in.pos_weight[p * VisionInputs::kCorners];
              const float dy = rows.frac[y], dx = cols.frac[x];
              idx[0] = rows.lo[y] * side + cols.lo[x];
              idx[1] = rows.lo[y] * side + cols.hi[x];
              idx[2] = rows.hi[y] * side + cols.lo[x];
              idx[3] = rows.hi[y] * side + cols.hi[x];
              wt[0] = (1.0f - dy) * (1.0f - dx);
              wt[1] = (1.0f - dy) * dx;
              wt[2] = dy * (1.0f - dx);
              wt[3] = dy * dx;

              float* cs = &in.rope_cos[p * hd];
              float* sn = &in.rope_sin[p * hd];
              for (int j = 0; j < n_freq; ++j) {
                const float row_angle = static_cast<float>(y) * inv_freq[j];
                const float col_angle = static_cast<float>(x) * inv_freq[j];
                for (int half = 0; half < 2; ++half) {
                  const int base = half * (hd / 2);
                  cs[base + j] = std::cos(row_angle);
                  sn[base + j] = std::sin(row_angle);
                  cs[base + n_freq + j] = std::cos(col_angle);
                  sn[base + n_freq + j] = std::sin(col_angle);
                }
              }
            }
      in.cu_seqlens.push_back(p);  // each temporal patch attends within itself
    }
  }
  return in;
}

}  // namespace qwen3vl
