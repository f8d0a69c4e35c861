#include "qwen3vl/model/text_decoder.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/elementwise.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_multi.h"
#include "qwen3vl/model/tensor_specs.h"

namespace qwen3vl {

namespace {

// Row-parallel loop for the cheap per-row ops, so they do not become the
// serial bottleneck of a long prefill.
void for_rows(ThreadPool& pool, int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
  if (rows <= 1) {
    fn(0, rows);
    return;
  }
  pool.parallel_for(rows, 1, fn);
}

// Charges the time since the previous lap to a profile bucket (no clock
// reads when profiling is off).
class PhaseTimer {
 public:
  explicit PhaseTimer(bool on) : on_(on) {
    if (on_) last_ = std::chrono::steady_clock::now();
  }
  void lap(double& bucket) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    bucket += std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

bool is_plain_format(WeightFormat f) {
  return f == WeightFormat::F32 || f == WeightFormat::BF16 || f == WeightFormat::F16;
}

// The first `rows` output rows of a plain [rows, cols] weight, without copying.
WeightMatrix leading_rows(const WeightMatrix& w, int64_t rows) {
  WeightMatrix v = w;
  v.rows = rows;
  return v;
}

}  // namespace

TextDecoder::TextDecoder(const ModelConfig& config, const WeightSource& source, const DecoderOptions& options)
    : cfg_(config.text),
      rope_(config.text.head_dim, config.text.rope_theta, config.text.mrope_section),
      pool_(options.pool) {
  check(pool_ != nullptr, "TextDecoder: DecoderOptions::pool must be set");
  const TextModelSpec spec = qwen3vl_tensor_specs(config).text;
  const WeightOptions& wo = options.weights;
  embed_ = load_matrix(source, spec.embed_tokens, wo);
  head_ = spec.lm_head ? load_matrix(source, *spec.lm_head, wo) : embed_;
  final_norm_ = load_vector(source, spec.norm.weight);

  layers_.resize(cfg_.num_layers);
  for (int i = 0; i < cfg_.num_layers; ++i) {
    const TextLayerSpec& s = spec.layers[i];
    check(s.mlp.has_value() != s.moe.has_value(),
          "text decoder: layer " + std::to_string(i) + " needs exactly one of a dense and a MoE MLP");
    Layer& L = layers_[i];
    L.input_norm = load_vector(source, s.input_norm.weight);
    L.post_norm = load_vector(source, s.post_attention_norm.weight);
    L.q_norm = load_vector(source, s.q_norm.weight);
    L.k_norm = load_vector(source, s.k_norm.weight);
    L.q = load_matrix(source, s.q_proj.weight, wo);
    L.k = load_matrix(source, s.k_proj.weight, wo);
    L.v = load_matrix(source, s.v_proj.weight, wo);
    L.o = load_matrix(source, s.o_proj.weight, wo);
    L.q_bias = load_vector(source, s.q_proj.bias);
    L.k_bias = load_vector(source, s.k_proj.bias);
    L.v_bias = load_vector(source, s.v_proj.bias);
    L.o_bias = load_vector(source, s.o_proj.bias);
    if (s.moe) {
      L.moe = std::make_shared<const MoeMlp>(cfg_, source, *s.moe, wo);
      continue;
    }
    L.gate = load_matrix(source, s.mlp->gate_proj.weight, wo);
    L.up = load_matrix(source, s.mlp->up_proj.weight, wo);
    L.down = load_matrix(source, s.mlp->down_proj.weight, wo);
  }
  reset_expert_usage();
}

void TextDecoder::reset_expert_usage() {
  expert_usage_.assign(layers_.size(), {});
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].moe) expert_usage_[i].assign(static_cast<size_t>(layers_[i].moe->num_experts()), 0);
}

KVCache TextDecoder::make_cache(int64_t context_length, KVCacheType type) const {
  return KVCache(cfg_.num_layers, cfg_.num_kv_heads, cfg_.head_dim, context_length, type);
}

size_t TextDecoder::weight_bytes() const {
  size_t total = head_.bytes();
  for (const Layer& L : layers_) {
    for (const WeightMatrix* w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) total += w->bytes();
    if (L.moe) total += L.moe->bytes_per_token();
  }
  return total;
}

void TextDecoder::ensure_workspace(int64_t n) {
  if (n <= ws_.rows) return;
  const size_t rows = static_cast<size_t>(n);
  const size_t H = cfg_.hidden_size, hd = cfg_.head_dim;
  ws_.hidden.resize(rows * H);
  ws_.normed.resize(rows * H);
  ws_.q.resize(rows * cfg_.num_heads * hd);
  ws_.attn.resize(rows * cfg_.num_heads * hd);
  ws_.k.resize(rows * cfg_.num_kv_heads * hd);
  ws_.v.resize(rows * cfg_.num_kv_heads * hd);
  ws_.gate.resize(rows * cfg_.intermediate_size);
  ws_.up.resize(rows * cfg_.intermediate_size);
  ws_.cos.resize(rows * hd);
  ws_.sin.resize(rows * hd);
  ws_.rows = n;
}

void TextDecoder::validate(const DecoderInput& in, const KVCache& cache) const {
  const size_t n = in.ids.size();
  check(n > 0, "decoder: empty chunk of tokens");
  for (int a = 0; a < 3; ++a)
    check(in.positions[a].size() == n, "decoder: position row " + std::to_string(a) + " has " +
                                           std::to_string(in.positions[a].size()) + " entries for " +
                                           std::to_string(n) + " tokens");
  for (size_t r = 0; r < n; ++r)
    check(in.ids[r] >= 0 && in.ids[r] < cfg_.vocab_size,
          "decoder: token id " + std::to_string(in.ids[r]) + " at row " + std::to_string(r) +
              " is outside the vocabulary of " + std::to_string(cfg_.vocab_size));
  for (int32_t r : in.image_rows)
    check(r >= 0 && static_cast<size_t>(r) < n,
          "decoder: image row " + std::to_string(r) + " is outside the chunk of " + std::to_string(n));
  check(in.image_rows.empty() || in.image_embeds != nullptr,
        "decoder: image rows given without image embeddings");
  check(in.deepstack.empty() || !in.image_rows.empty(), "decoder: DeepStack features given without image rows");
  check(static_cast<int>(in.deepstack.size()) <= cfg_.num_layers,
        "decoder: more DeepStack levels than decoder layers");
  for (const float* d : in.deepstack) check(d != nullptr, "decoder: null DeepStack feature");
  check(cache.n_layers() == cfg_.num_layers && cache.n_kv_heads() == cfg_.num_kv_heads &&
            cache.head_dim() == cfg_.head_dim,
        "decoder: the KV cache was made for a different model");
  cache.ensure_room(static_cast<int64_t>(n));
}

void TextDecoder::run_layer(int index, int64_t n, KVCache& cache) {
  const Layer& L = layers_[index];
  ThreadPool& pool = *pool_;
  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int hd = cfg_.head_dim, nh = cfg_.num_heads, nkv = cfg_.num_kv_heads;
  const float eps = cfg_.rms_norm_eps;
  float* hidden = ws_.hidden.data();
  float* normed = ws_.normed.data();
  float *q = ws_.q.data(), *k = ws_.k.data(), *v = ws_.v.data();
  PhaseTimer timer(profiling_);
  DecoderProfile& prof = profile_;

  // Attention block.
  rms_norm(hidden, L.input_norm.data(), eps, n, H, normed, pool);
  timer.lap(prof.norms_ms);
  // q, k and v of one input: one call, so decode pays one parallel region.
  const LinearOutput qkv[] = {{&L.q, bias_or_null(L.q_bias), q},
                              {&L.k, bias_or_null(L.k_bias), k},
                              {&L.v, bias_or_null(L.v_bias), v}};
  matmul_multi(normed, n, qkv, pool);
  timer.lap(prof.qkv_ms);
  for_rows(pool, n, [&](int64_t r0, int64_t r1) {
    // q_norm / k_norm normalise each head separately over head_dim, before RoPE.
    rms_norm(q + r0 * nh * hd, L.q_norm.data(), eps, (r1 - r0) * nh, hd, q + r0 * nh * hd, pool);
    rms_norm(k + r0 * nkv * hd, L.k_norm.data(), eps, (r1 - r0) * nkv, hd, k + r0 * nkv * hd, pool);
    apply_rope(q + r0 * nh * hd, r1 - r0, nh * hd, nh, hd, ws_.cos.data() + r0 * hd, ws_.sin.data() + r0 * hd);
    apply_rope(k + r0 * nkv * hd, r1 - r0, nkv * hd, nkv, hd, ws_.cos.data() + r0 * hd,
               ws_.sin.data() + r0 * hd);
  });
  timer.lap(prof.norms_ms);
  cache.write(index, n, k, v);
  cache.attend(index, q, n, static_cast<int64_t>(nh) * hd, nh, ws_.attn.data(), static_cast<int64_t>(nh) * hd,
               pool);
  timer.lap(prof.attention_ms);
  matmul(ws_.attn.data(), n, L.o, bias_or_null(L.o_bias), normed, pool);
  timer.lap(prof.out_proj_ms);
  add_inplace(hidden, normed, n * H, pool);

  // MLP block: down(silu(gate(x)) * up(x)), or the routed experts' sum.
  rms_norm(hidden, L.post_norm.data(), eps, n, H, normed, pool);
  timer.lap(prof.norms_ms);
  if (L.moe) {
    run_moe(index, n, normed, normed);
    timer.lap(prof.mlp_ms);
    add_inplace(hidden, normed, n * H, pool);
    timer.lap(prof.norms_ms);
    return;
  }
  const LinearOutput gate_up[] = {{&L.gate, nullptr, ws_.gate.data()}, {&L.up, nullptr, ws_.up.data()}};
  matmul_multi(normed, n, gate_up, pool);
  timer.lap(prof.mlp_ms);
  silu_mul(ws_.gate.data(), ws_.up.data(), n * I, ws_.gate.data(), pool);
  timer.lap(prof.norms_ms);
  matmul(ws_.gate.data(), n, L.down, nullptr, normed, pool);
  timer.lap(prof.mlp_ms);
  add_inplace(hidden, normed, n * H, pool);
  timer.lap(prof.norms_ms);
}

void TextDecoder::run_moe(int index, int64_t n, const float* x, float* out) {
  const MoeMlp& moe = *layers_[index].moe;
  MoeMlp::Scratch& s = ws_.moe;
  const float* result = moe.forward(x, n, s, *pool_);
  const int64_t E = moe.num_experts(), k = moe.top_k(), H = cfg_.hidden_size;
  std::vector<int64_t>& usage = expert_usage_[index];
  for (int32_t e : s.topk_ids) ++usage[e];
  if (capture_) {
    const std::string layer = std::to_string(index);
    capture_("router_logits_layer" + layer, s.router_logits.data(), n, E);
    capture_("router_topk_weights_layer" + layer, s.topk_weights.data(), n, k);
    capture_("moe_out_layer" + layer, result, n, H);
  }
  if (index_capture_) {
    const std::vector<int64_t> ids(s.topk_ids.begin(), s.topk_ids.end());
    index_capture_("router_topk_ids_layer" + std::to_string(index), ids.data(), n, k);
  }
  std::memcpy(out, result, static_cast<size_t>(n * H) * sizeof(float));
}

std::span<const float> TextDecoder::forward(const DecoderInput& in, KVCache& cache, const LogitsRequest& request) {
  validate(in, cache);
  const int64_t n = static_cast<int64_t>(in.ids.size());
  const int64_t H = cfg_.hidden_size;
  const int64_t columns = request.columns > 0 ? std::min<int64_t>(request.columns, cfg_.vocab_size)
                                              : cfg_.vocab_size;
  ensure_workspace(n);
  ThreadPool& pool = *pool_;
  float* hidden = ws_.hidden.data();
  PhaseTimer timer(profiling_);

  // Embeddings, then visual embeddings in place of the image-pad tokens.
  for_rows(pool, n, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) weight_row_to_f32(embed_, in.ids[r], hidden + r * H);
  });
  for (size_t i = 0; i < in.image_rows.size(); ++i)
    std::memcpy(hidden + in.image_rows[i] * H, in.image_embeds + i * H, H * sizeof(float));

  rope_.tables(in.positions, ws_.cos.data(), ws_.sin.data());
  if (capture_) {
    capture_("text_rope_cos", ws_.cos.data(), n, cfg_.head_dim);
    capture_("text_rope_sin", ws_.sin.data(), n, cfg_.head_dim);
  }
  timer.lap(profile_.embed_ms);

  for (int layer = 0; layer < cfg_.num_layers; ++layer) {
    run_layer(layer, n, cache);
    // DeepStack: level j of the vision features joins after layer j.
    if (layer < static_cast<int>(in.deepstack.size())) {
      const float* feature = in.deepstack[layer];
      for (size_t i = 0; i < in.image_rows.size(); ++i)
        add_inplace(hidden + in.image_rows[i] * H, feature + i * H, H, *pool_);
    }
    if (capture_) capture_("text_layer" + std::to_string(layer) + "_out", hidden, n, H);
  }
  cache.commit(n);
  timer = PhaseTimer(profiling_);

  // Final norm and LM head on the rows asked for.
  const int64_t first_row = request.all_rows ? 0 : n - 1;
  const int64_t out_rows = n - first_row;
  float* normed = ws_.normed.data();
  rms_norm(hidden + first_row * H, final_norm_.data(), cfg_.rms_norm_eps, out_rows, H, normed, pool);
  ws_.logits.resize(static_cast<size_t>(out_rows * columns));
  if (columns == cfg_.vocab_size) {
    matmul(normed, out_rows, head_, nullptr, ws_.logits.data(), pool);
  } else if (is_plain_format(head_.format)) {
    matmul(normed, out_rows, leading_rows(head_, columns), nullptr, ws_.logits.data(), pool);
  } else {
    // Packed formats may not split by rows; compute all and keep the prefix.
    std::vector<float> full(static_cast<size_t>(out_rows * cfg_.vocab_size));
    matmul(normed, out_rows, head_, nullptr, full.data(), pool);
    for (int64_t r = 0; r < out_rows; ++r)
      std::memcpy(ws_.logits.data() + r * columns, full.data() + r * cfg_.vocab_size, columns * sizeof(float));
  }
  timer.lap(profile_.head_ms);
  if (profiling_) ++profile_.calls;
  return {ws_.logits.data(), ws_.logits.size()};
}

}  // namespace qwen3vl
