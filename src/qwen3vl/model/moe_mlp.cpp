#include "qwen3vl/model/moe_mlp.h"

#include <algorithm>
#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/elementwise.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_multi.h"
#include "qwen3vl/model/moe_routing.h"

namespace qwen3vl {

MoeMlp::MoeMlp(const TextConfig& config, const WeightSource& source, const MoeMlpSpec& spec,
               const WeightOptions& options)
    : hidden_(config.hidden_size),
      inter_(config.moe_intermediate_size),
      experts_(config.num_experts),
      top_k_(config.num_experts_per_tok) {
  check(experts_ > 0 && top_k_ > 0 && top_k_ <= experts_, "MoeMlp: invalid expert counts");
  router_ = load_matrix(source, spec.router, options);
  gate_up_ = load_experts(source, spec.gate_up_proj, options);
  down_ = load_experts(source, spec.down_proj, options);
}

size_t MoeMlp::bytes_per_token() const {
  // Every expert has the same shape and format, so any k of them cost the same.
  return router_.bytes() + static_cast<size_t>(top_k_) * (gate_up_[0].bytes() + down_[0].bytes());
}

size_t MoeMlp::total_bytes() const {
  size_t total = router_.bytes();
  for (int e = 0; e < experts_; ++e) total += gate_up_[e].bytes() + down_[e].bytes();
  return total;
}

const float* MoeMlp::forward(const float* x, int64_t n, Scratch& s, ThreadPool& pool, bool rowwise) const {
  const int64_t H = hidden_, I = inter_, E = experts_, k = top_k_;
  s.router_logits.resize(static_cast<size_t>(n * E));
  s.topk_ids.resize(static_cast<size_t>(n * k));
  s.topk_weights.resize(static_cast<size_t>(n * k));
  s.out.assign(static_cast<size_t>(n * H), 0.0f);
  // An expert's rows: one GEMM, or (rowwise) each row as the decode GEMV
  // computes it alone.
  auto linear = [&](const float* in, int64_t m, const WeightMatrix& w, float* y) {
    if (rowwise) {
      const LinearOutput o[] = {{&w, nullptr, y}};
      matmul_multi_rowwise(in, m, o, pool);
    } else {
      matmul(in, m, w, nullptr, y, pool);
    }
  };
  linear(x, n, router_, s.router_logits.data());
  route_top_k(s.router_logits.data(), n, experts_, top_k_, s.topk_ids.data(), s.topk_weights.data());

  // Group the (token, expert) assignments by expert, tokens ascending within
  // each expert (a counting sort).
  s.group_first.assign(static_cast<size_t>(E + 1), 0);
  for (int64_t a = 0; a < n * k; ++a) ++s.group_first[s.topk_ids[a] + 1];
  for (int64_t e = 0; e < E; ++e) s.group_first[e + 1] += s.group_first[e];
  s.group_tokens.resize(static_cast<size_t>(n * k));
  s.group_weights.resize(static_cast<size_t>(n * k));
  {
    std::vector<int32_t> fill(s.group_first.begin(), s.group_first.end() - 1);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < k; ++j) {
        const int32_t e = s.topk_ids[t * k + j];
        s.group_tokens[fill[e]] = static_cast<int32_t>(t);
        s.group_weights[fill[e]++] = s.topk_weights[t * k + j];
      }
  }

  // Every assignment's input row, gathered so each expert's rows are
  // contiguous; its intermediates and output keep the same row index.
  const int64_t A = n * k;
  s.x.resize(static_cast<size_t>(A * H));
  s.gate_up.resize(static_cast<size_t>(A * 2 * I));
  s.act.resize(static_cast<size_t>(A * I));
  s.y.resize(static_cast<size_t>(A * H));
  for (int64_t a = 0; a < A; ++a)
    std::memcpy(s.x.data() + a * H, x + s.group_tokens[a] * H, H * sizeof(float));

  // An expert with several tokens: one matmul (a GEMM) over its rows. The
  // experts with a single token (every expert during decode): their
  // products together in one parallel region per projection.
  std::vector<LinearOutput> singles;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t a = s.group_first[e], m = s.group_first[e + 1] - a;
    if (m == 1) singles.push_back({&gate_up_[e], nullptr, s.gate_up.data() + a * 2 * I, s.x.data() + a * H});
    else if (m > 1) linear(s.x.data() + a * H, m, gate_up_[e], s.gate_up.data() + a * 2 * I);
  }
  matmul_multi(nullptr, 1, singles, pool);
  auto swiglu = [&](int64_t a0, int64_t a1) {
    for (int64_t a = a0; a < a1; ++a) {
      const float* row = s.gate_up.data() + a * 2 * I;
      silu_mul(row, row + I, I, s.act.data() + a * I, pool);
    }
  };
  if (A > 1) pool.parallel_for(A, 1, swiglu);
  else swiglu(0, A);
  singles.clear();
  for (int64_t e = 0; e < E; ++e) {
    const int64_t a = s.group_first[e], m = s.group_first[e + 1] - a;
    if (m == 1) singles.push_back({&down_[e], nullptr, s.y.data() + a * H, s.act.data() + a * I});
    else if (m > 1) linear(s.act.data() + a * I, m, down_[e], s.y.data() + a * H);
  }
  matmul_multi(nullptr, 1, singles, pool);

  // The weighted sum, experts in ascending id: each token's output
  // accumulates in the reference's order.
  for (int64_t a = 0; a < A; ++a) {
    float* out = s.out.data() + s.group_tokens[a] * H;
    const float w = s.group_weights[a];
    const float* y = s.y.data() + a * H;
    for (int64_t c = 0; c < H; ++c) out[c] += y[c] * w;
  }
  return s.out.data();
}

}  // namespace qwen3vl
