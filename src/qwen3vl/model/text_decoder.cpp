#include "qwen3vl/model/text_decoder.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/elementwise.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_multi.h"
#include "qwen3vl/kernels/rotary.h"
#include "qwen3vl/model/tensor_specs.h"

namespace qwen3vl {

namespace {

// Charges the time since the previous lap to a profile bucket (no clock
// reads when profiling is off).
class PhaseTimer {
 public:
  explicit PhaseTimer(DecoderProfile* profile) : profile_(profile) {
    if (profile_) last_ = std::chrono::steady_clock::now();
  }
  void lap(double DecoderProfile::*bucket) {
    if (!profile_) return;
    const auto now = std::chrono::steady_clock::now();
    profile_->*bucket += std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }

 private:
  DecoderProfile* profile_;
  std::chrono::steady_clock::time_point last_;
};

// Grows a buffer to hold at least n values (never shrinks).
void reserve_rows(std::vector<float>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
}

// Linear layers over the pass's rows. Several sequences in one pass use the
// row-invariant kernel, so no sequence's result depends on the others.
void linear(const float* x, int64_t n, std::span<const LinearOutput> outputs, bool rowwise, ThreadPool& pool) {
  if (rowwise) matmul_multi_rowwise(x, n, outputs, pool);
  else matmul_multi(x, n, outputs, pool);
}

void linear(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y, bool rowwise,
            ThreadPool& pool) {
  const LinearOutput one{&w, bias, y};
  linear(x, n, std::span<const LinearOutput>(&one, 1), rowwise, pool);
}

}  // namespace

TextDecoder::TextDecoder(const ModelConfig& config, const WeightSource& source, const DecoderOptions& options)
    : cfg_(config.text),
      rope_(config.text.head_dim, config.text.rope_theta, config.text.mrope_section) {
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

void TextDecoder::validate(const DecoderInput& in) const {
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
  for (int32_t r : in.visual_rows)
    check(r >= 0 && static_cast<size_t>(r) < n,
          "decoder: visual row " + std::to_string(r) + " is outside the chunk of " + std::to_string(n));
  check(in.visual_rows.empty() || in.visual_embeds != nullptr,
        "decoder: visual rows given without visual embeddings");
  check(in.deepstack.empty() || !in.visual_rows.empty(), "decoder: DeepStack features given without visual rows");
  check(static_cast<int>(in.deepstack.size()) <= cfg_.num_layers,
        "decoder: more DeepStack levels than decoder layers");
  for (const float* d : in.deepstack) check(d != nullptr, "decoder: null DeepStack feature");
}

void TextDecoder::check_cache(const KVCache& cache, int64_t new_rows) const {
  check(cache.n_layers() == cfg_.num_layers && cache.n_kv_heads() == cfg_.num_kv_heads &&
            cache.head_dim() == cfg_.head_dim,
        "decoder: the KV cache was made for a different model");
  cache.ensure_room(new_rows);
}

void TextDecoder::run_layer(int index, std::span<const SequenceRows> sequences, int64_t n, DecoderWorkspace& ws,
                            const ForwardContext& ctx) const {
  const Layer& L = layers_[index];
  ThreadPool& pool = ctx.pool;
  const bool rowwise = sequences.size() > 1;
  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int hd = cfg_.head_dim, nh = cfg_.num_heads, nkv = cfg_.num_kv_heads;
  const float eps = cfg_.rms_norm_eps;
  float* residual = ws.residual.data();
  float* normed = ws.normed.data();
  float* sublayer_out = ws.sublayer_out.data();
  float *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data();
  const float *cos = ws.rope_cos.data(), *sin = ws.rope_sin.data();
  PhaseTimer timer(ctx.profile);

  // Attention block: residual += o_proj(attention(rope(norm(q)), rope(norm(k)), v)).
  rms_norm(residual, L.input_norm.data(), eps, n, H, normed, pool);
  timer.lap(&DecoderProfile::norms_ms);
  // q, k and v of one input: one call, so decode pays one parallel region.
  const LinearOutput qkv[] = {{&L.q, bias_or_null(L.q_bias), q},
                              {&L.k, bias_or_null(L.k_bias), k},
                              {&L.v, bias_or_null(L.v_bias), v}};
  linear(normed, n, qkv, rowwise, pool);
  timer.lap(&DecoderProfile::qkv_ms);
  // q_norm / k_norm normalise each head separately over head_dim, before RoPE.
  rms_norm(q, L.q_norm.data(), eps, n * nh, hd, q, pool);
  rms_norm(k, L.k_norm.data(), eps, n * nkv, hd, k, pool);
  apply_rotary(q, n, static_cast<int64_t>(nh) * hd, nh, hd, cos, sin, pool);
  apply_rotary(k, n, static_cast<int64_t>(nkv) * hd, nkv, hd, cos, sin, pool);
  timer.lap(&DecoderProfile::norms_ms);
  // Each sequence attends to its own cache only.
  const int64_t q_width = static_cast<int64_t>(nh) * hd, kv_width = static_cast<int64_t>(nkv) * hd;
  for (const SequenceRows& s : sequences) {
    s.cache->write(index, s.rows, k + s.first_row * kv_width, v + s.first_row * kv_width);
    s.cache->attend(index, q + s.first_row * q_width, s.rows, q_width, nh, ws.attention.data() + s.first_row * q_width,
                    q_width, pool);
  }
  timer.lap(&DecoderProfile::attention_ms);
  linear(ws.attention.data(), n, L.o, bias_or_null(L.o_bias), sublayer_out, rowwise, pool);
  timer.lap(&DecoderProfile::out_proj_ms);
  add_inplace(residual, sublayer_out, n * H, pool);

  // MLP block: residual += down(silu(gate(x)) * up(x)), x = norm(residual);
  // or the routed experts' weighted sum.
  rms_norm(residual, L.post_norm.data(), eps, n, H, normed, pool);
  timer.lap(&DecoderProfile::norms_ms);
  if (L.moe) {
    const float* moe_out = run_moe(index, n, normed, rowwise, ws, ctx);
    timer.lap(&DecoderProfile::mlp_ms);
    add_inplace(residual, moe_out, n * H, pool);
    timer.lap(&DecoderProfile::norms_ms);
    return;
  }
  float *gate = ws.gate.data(), *up = ws.up.data();
  const LinearOutput gate_up[] = {{&L.gate, nullptr, gate}, {&L.up, nullptr, up}};
  linear(normed, n, gate_up, rowwise, pool);
  timer.lap(&DecoderProfile::mlp_ms);
  // Per sequence: how a flat loop splits over threads and vector tails must
  // not depend on the other sequences.
  for (const SequenceRows& s : sequences)
    silu_mul(gate + s.first_row * I, up + s.first_row * I, s.rows * I, gate + s.first_row * I, pool);
  timer.lap(&DecoderProfile::norms_ms);
  linear(gate, n, L.down, nullptr, sublayer_out, rowwise, pool);
  timer.lap(&DecoderProfile::mlp_ms);
  add_inplace(residual, sublayer_out, n * H, pool);
  timer.lap(&DecoderProfile::norms_ms);
}

const float* TextDecoder::run_moe(int index, int64_t n, const float* normed, bool rowwise, DecoderWorkspace& ws,
                                  const ForwardContext& ctx) const {
  const MoeMlp& moe = *layers_[index].moe;
  MoeMlp::Scratch& s = ws.moe;
  const float* out = moe.forward(normed, n, s, ctx.pool, rowwise);
  if (ws.expert_counts.size() != layers_.size()) ws.expert_counts.assign(layers_.size(), {});
  std::vector<int64_t>& usage = ws.expert_counts[index];
  usage.resize(static_cast<size_t>(moe.num_experts()));
  for (int32_t e : s.topk_ids) ++usage[e];
  if (ctx.capture) {
    const std::string layer = std::to_string(index);
    const int64_t E = moe.num_experts(), k = moe.top_k();
    ctx.capture->put("router_logits_layer" + layer, {n, E}, s.router_logits.data());
    ctx.capture->put("router_topk_weights_layer" + layer, {n, k}, s.topk_weights.data());
    ctx.capture->put("moe_out_layer" + layer, {n, cfg_.hidden_size}, out);
    if (ctx.capture->i64) {
      const std::vector<int64_t> ids(s.topk_ids.begin(), s.topk_ids.end());
      ctx.capture->put("router_topk_ids_layer" + layer, {n, k}, ids.data());
    }
  }
  return out;
}

std::span<const float> TextDecoder::forward(const DecoderInput& in, KVCache& cache, DecoderWorkspace& ws,
                                           const ForwardContext& ctx, const LogitsRequest& request) const {
  validate(in);
  const int64_t n = static_cast<int64_t>(in.ids.size());
  check_cache(cache, n);
  const SequenceRows one{&cache, 0, n};
  return run(in, std::span<const SequenceRows>(&one, 1), ws, ctx, request);
}

std::span<const float> TextDecoder::decode_batch(std::span<const int32_t> ids,
                                                const std::array<std::span<const int32_t>, 3>& positions,
                                                std::span<KVCache* const> caches, DecoderWorkspace& ws,
                                                const ForwardContext& ctx) const {
  check(caches.size() == ids.size(), "decoder: " + std::to_string(ids.size()) + " tokens for " +
                                         std::to_string(caches.size()) + " KV caches in a batched decode step");
  DecoderInput in;
  in.ids = ids;
  in.positions = positions;
  validate(in);
  std::vector<SequenceRows> sequences;
  for (size_t i = 0; i < caches.size(); ++i) {
    check(caches[i] != nullptr, "decoder: null KV cache in a batched decode step");
    for (size_t j = 0; j < i; ++j)
      check(caches[j] != caches[i], "decoder: one KV cache given twice in a batched decode step");
    check_cache(*caches[i], 1);
    sequences.push_back({caches[i], static_cast<int64_t>(i), 1});
  }
  LogitsRequest every_row;
  every_row.all_rows = true;
  return run(in, sequences, ws, ctx, every_row);
}

std::span<const float> TextDecoder::run(const DecoderInput& in, std::span<const SequenceRows> sequences,
                                       DecoderWorkspace& ws, const ForwardContext& ctx,
                                       const LogitsRequest& request) const {
  const bool rowwise = sequences.size() > 1;
  const int64_t n = static_cast<int64_t>(in.ids.size());
  const int64_t H = cfg_.hidden_size;
  const int64_t columns = request.columns > 0 ? std::min<int64_t>(request.columns, cfg_.vocab_size)
                                              : cfg_.vocab_size;
  if (n > ws.rows) {
    const size_t rows = static_cast<size_t>(n), hd = cfg_.head_dim;
    for (auto* b : {&ws.residual, &ws.normed, &ws.sublayer_out}) reserve_rows(*b, rows * H);
    reserve_rows(ws.q, rows * cfg_.num_heads * hd);
    reserve_rows(ws.attention, rows * cfg_.num_heads * hd);
    reserve_rows(ws.k, rows * cfg_.num_kv_heads * hd);
    reserve_rows(ws.v, rows * cfg_.num_kv_heads * hd);
    reserve_rows(ws.gate, rows * cfg_.intermediate_size);
    reserve_rows(ws.up, rows * cfg_.intermediate_size);
    reserve_rows(ws.rope_cos, rows * hd);
    reserve_rows(ws.rope_sin, rows * hd);
    ws.rows = n;
  }
  ThreadPool& pool = ctx.pool;
  float* residual = ws.residual.data();
  PhaseTimer timer(ctx.profile);

  // Embeddings, then visual embeddings in place of the image/video pads.
  weight_rows_to_f32(embed_, in.ids, residual, pool);
  for (size_t i = 0; i < in.visual_rows.size(); ++i)
    std::memcpy(residual + in.visual_rows[i] * H, in.visual_embeds + i * H, H * sizeof(float));

  rope_.tables(in.positions, ws.rope_cos.data(), ws.rope_sin.data());
  if (ctx.capturing()) {
    ctx.capture->put("text_rope_cos", {n, cfg_.head_dim}, ws.rope_cos.data());
    ctx.capture->put("text_rope_sin", {n, cfg_.head_dim}, ws.rope_sin.data());
  }
  timer.lap(&DecoderProfile::embed_ms);

  for (int layer = 0; layer < cfg_.num_layers; ++layer) {
    run_layer(layer, sequences, n, ws, ctx);
    // DeepStack: level j of the vision features joins after layer j.
    if (layer < static_cast<int>(in.deepstack.size())) {
      const float* feature = in.deepstack[layer];
      for (size_t i = 0; i < in.visual_rows.size(); ++i)
        add_inplace(residual + in.visual_rows[i] * H, feature + i * H, H, pool);
    }
    if (ctx.capturing()) ctx.capture->put("text_layer" + std::to_string(layer) + "_out", {n, H}, residual);
  }
  for (const SequenceRows& s : sequences) s.cache->commit(s.rows);
  timer = PhaseTimer(ctx.profile);

  // Final norm and LM head on the rows asked for.
  const int64_t first_row = request.all_rows ? 0 : n - 1;
  const int64_t out_rows = n - first_row;
  float* normed = ws.normed.data();
  rms_norm(residual + first_row * H, final_norm_.data(), cfg_.rms_norm_eps, out_rows, H, normed, pool);
  ws.logits.resize(static_cast<size_t>(out_rows * columns));
  matmul_leading_rows(normed, out_rows, head_, columns, ws.logits.data(), pool, rowwise);
  timer.lap(&DecoderProfile::head_ms);
  if (ctx.profile) ++ctx.profile->calls;
  return {ws.logits.data(), ws.logits.size()};
}

}  // namespace qwen3vl
