#include "qwen3vl/export/onnx/decoder_graph.h"

#include <cmath>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/model/mrope.h"

namespace qwen3vl::onnx_export {

namespace {

std::string rms_norm(GraphBuilder& g, ExportWeights& w, const std::string& x, const NormSpec& norm, float eps) {
  const std::string ms = g.op("ReduceMean", {g.mul(x, x)}, {attr("axes", std::vector<int64_t>{-1})});
  const std::string inv = g.op("Reciprocal", {g.op("Sqrt", {g.add(ms, g.scalar_f32(eps))})});
  return g.mul(g.mul(x, inv), w.tensor(g, norm.weight));
}

// cos, sin [batch, 1, seq, head_dim] from the positions, as MRope::tables.
std::pair<std::string, std::string> rope_tables(GraphBuilder& g, const TextConfig& t, const std::string& positions,
                                                bool three_rows) {
  const MRope rope(t.head_dim, t.rope_theta, t.mrope_section);
  const int64_t half = t.head_dim / 2;
  const std::string inv_freq = g.const_f32(rope.inv_freq(), {half});
  const std::string pos = g.cast(positions, Elem::F32);
  std::string angles;
  if (three_rows) {
    // [3, B, S] -> [B, S, 3] -> each slot picks its axis -> [B, S, half]
    std::vector<int64_t> axes(rope.slot_axes().begin(), rope.slot_axes().end());
    const std::string per_slot = g.gather(g.transpose(pos, {1, 2, 0}), g.const_i64(axes, {half}), 2);
    angles = g.mul(per_slot, inv_freq);
  } else {
    angles = g.mul(g.unsqueeze(pos, {-1}), inv_freq);
  }
  const std::string full = g.unsqueeze(g.concat({angles, angles}, -1), {1});
  return {g.op("Cos", {full}), g.op("Sin", {full})};
}

std::string apply_rope(GraphBuilder& g, const std::string& x, const std::string& cos, const std::string& sin,
                       int64_t head_dim) {
  const std::string a = g.slice(x, g.const_i64({0}), g.const_i64({head_dim / 2}), -1);
  const std::string b = g.slice(x, g.const_i64({head_dim / 2}), g.const_i64({head_dim}), -1);
  return g.add(g.mul(x, cos), g.mul(g.concat({g.op("Neg", {b}), a}, -1), sin));
}

// [B, kv, T, hd] -> [B, kv * rep, T, hd], each kv head repeated for its group of query heads.
std::string repeat_kv(GraphBuilder& g, const std::string& x, int64_t kv_heads, int64_t rep, int64_t head_dim) {
  if (rep == 1) return x;
  const std::string tiled = g.op("Tile", {g.unsqueeze(x, {2}), g.const_i64({1, 1, rep, 1, 1})});
  return g.reshape(tiled, {0, kv_heads * rep, -1, head_dim});
}

// transformers.js (4.3.2, and its main branch as of this writing) gives a
// prompt without images a decode-time rope delta of max_position + 1 +
// length where the reference has max_position + 1 - length
// (Qwen2VLForConditionalGeneration._get_text_only_rope_index), so each of its
// decode steps passes a position 2 * prompt length too far. Under M-RoPE no
// position exceeds its token's index in the sequence (a text token advances
// the position by one, an image by at most its token count), so a row whose
// largest position is above its index can only be that mistake; it takes the
// position the reference gives text, cumsum(attention_mask) - 1. Positions
// from a correct caller never reach the replacement.
std::string positions_tolerating_text_only_delta(GraphBuilder& g, const std::string& positions,
                                                 const std::string& attention_mask, const std::string& past_len,
                                                 const std::string& total_len, const std::string& row_index) {
  const std::string text = g.sub(g.slice(g.op("CumSum", {attention_mask, g.scalar_i64(1)}), past_len, total_len, 1),
                                 g.scalar_i64(1));  // [B, S]
  const std::string largest = g.op("ReduceMax", {positions}, {attr("axes", std::vector<int64_t>{0})});  // [1, B, S]
  const std::string impossible = g.op("Greater", {largest, g.unsqueeze(row_index, {0, 1})});
  return g.op("Where", {impossible, g.unsqueeze(text, {0}), positions});
}

}  // namespace

void build_decoder_graph(GraphBuilder& g, ExportWeights& w, DecoderForm form) {
  const ModelConfig& c = w.config();
  const TextConfig& t = c.text;
  const TextModelSpec& ts = w.specs().text;
  const int64_t H = t.hidden_size, hd = t.head_dim, nh = t.num_heads, nkv = t.num_kv_heads;
  const int64_t levels = static_cast<int64_t>(c.vision.deepstack_visual_indexes.size());
  check(nkv > 0 && nh % nkv == 0, "onnx export: num_attention_heads must be a multiple of num_key_value_heads");
  check(levels <= t.num_layers, "onnx export: more DeepStack levels than decoder layers");

  // Inputs.
  std::string x;
  std::vector<std::string> deepstack;
  std::string positions;
  if (form == DecoderForm::TextOnly) {
    const std::string ids = g.input("input_ids", Elem::I64, {"batch_size", "sequence_length"});
    x = w.embedding(g, ids, ts.embed_tokens);
  } else if (form == DecoderForm::Multimodal) {
    x = g.input("inputs_embeds", Elem::F32, {"batch_size", "sequence_length", H});
  } else {
    const std::string wide = g.input("inputs_embeds", Elem::F32, {"batch_size", "sequence_length", H * (1 + levels)});
    x = g.slice(wide, g.const_i64({0}), g.const_i64({H}), -1);
    for (int64_t j = 0; j < levels; ++j)
      deepstack.push_back(g.slice(wide, g.const_i64({H * (1 + j)}), g.const_i64({H * (2 + j)}), -1));
  }
  const std::string mask_in = g.input("attention_mask", Elem::I64, {"batch_size", "total_sequence_length"});
  if (form == DecoderForm::TextOnly) {
    positions = g.input("position_ids", Elem::I64, {"batch_size", "sequence_length"});
  } else {
    positions = g.input("position_ids", Elem::I64, {3, "batch_size", "sequence_length"});
  }
  if (form == DecoderForm::Multimodal)
    for (int64_t j = 0; j < levels; ++j)
      deepstack.push_back(g.input("deepstack_embeds_" + std::to_string(j), Elem::F32,
                                  {"batch_size", "sequence_length", H}));
  std::vector<std::string> past_k, past_v;
  for (int i = 0; i < t.num_layers; ++i) {
    const std::string p = "past_key_values." + std::to_string(i);
    past_k.push_back(g.input(p + ".key", Elem::F32, {"batch_size", nkv, "past_sequence_length", hd}));
    past_v.push_back(g.input(p + ".value", Elem::F32, {"batch_size", nkv, "past_sequence_length", hd}));
  }

  // Causal + padding mask [B, 1, S, T] (additive).
  const std::string past_len = g.squeeze(g.dim(past_k[0], 2), {0});
  const std::string seq_len = g.squeeze(g.dim(x, 1), {0});
  const std::string total = g.add(past_len, seq_len);
  const std::string q_pos = g.op("Range", {past_len, total, g.scalar_i64(1)});
  const std::string k_pos = g.op("Range", {g.scalar_i64(0), total, g.scalar_i64(1)});
  const std::string causal = g.op("LessOrEqual", {g.unsqueeze(k_pos, {0}), g.unsqueeze(q_pos, {1})});
  const std::string keep = g.unsqueeze(g.cast(mask_in, Elem::BOOL), {1, 2});
  const std::string allowed = g.op("And", {g.unsqueeze(causal, {0, 1}), keep});
  const std::string mask = g.op("Where", {allowed, g.scalar_f32(0.0f), g.scalar_f32(-3.0e38f)});

  if (form == DecoderForm::WideEmbeds)
    positions = positions_tolerating_text_only_delta(g, positions, mask_in, g.dim(past_k[0], 2), g.dim(mask_in, 1), q_pos);
  const auto [cos, sin] = rope_tables(g, t, positions, form != DecoderForm::TextOnly);
  const std::string scale = g.scalar_f32(1.0f / std::sqrt(float(hd)));
  const float eps = t.rms_norm_eps;

  for (int i = 0; i < t.num_layers; ++i) {
    const TextLayerSpec& layer = ts.layers[i];
    check(layer.mlp.has_value(), "onnx export: layer " + std::to_string(i) +
                                     " has no dense MLP (mixture-of-experts layers cannot be exported)");
    const std::string h = rms_norm(g, w, x, layer.input_norm, eps);
    // [B, S, heads*hd] -> [B, S, heads, hd] -> per-head RMSNorm -> [B, heads, S, hd] -> rope
    auto heads = [&](const LinearSpec& proj, const NormSpec* norm, int64_t n) {
      std::string y = g.reshape(w.linear(g, h, proj), {0, 0, n, hd});
      if (norm) y = rms_norm(g, w, y, *norm, eps);
      return g.transpose(y, {0, 2, 1, 3});
    };
    const std::string q = apply_rope(g, heads(layer.q_proj, &layer.q_norm, nh), cos, sin, hd);
    const std::string k = apply_rope(g, heads(layer.k_proj, &layer.k_norm, nkv), cos, sin, hd);
    const std::string v = heads(layer.v_proj, nullptr, nkv);
    const std::string present_k = g.concat({past_k[i], k}, 2);
    const std::string present_v = g.concat({past_v[i], v}, 2);
    g.output(present_k, "present." + std::to_string(i) + ".key", Elem::F32,
             {"batch_size", nkv, "total_sequence_length", hd});
    g.output(present_v, "present." + std::to_string(i) + ".value", Elem::F32,
             {"batch_size", nkv, "total_sequence_length", hd});
    const std::string keys = repeat_kv(g, present_k, nkv, nh / nkv, hd);
    const std::string values = repeat_kv(g, present_v, nkv, nh / nkv, hd);
    const std::string scores = g.add(g.mul(g.matmul(q, g.transpose(keys, {0, 1, 3, 2})), scale), mask);
    const std::string probs = g.op("Softmax", {scores}, {attr("axis", int64_t(-1))});
    const std::string attn = g.reshape(g.transpose(g.matmul(probs, values), {0, 2, 1, 3}), {0, 0, nh * hd});
    x = g.add(x, w.linear(g, attn, layer.o_proj));

    const std::string h2 = rms_norm(g, w, x, layer.post_attention_norm, eps);
    const std::string gate = w.linear(g, h2, layer.mlp->gate_proj);
    const std::string up = w.linear(g, h2, layer.mlp->up_proj);
    const std::string act = g.mul(g.mul(gate, g.op("Sigmoid", {gate})), up);
    x = g.add(x, w.linear(g, act, layer.mlp->down_proj));
    // DeepStack level i joins the residual stream after layer i (zero on text rows).
    if (i < static_cast<int>(deepstack.size())) x = g.add(x, deepstack[i]);
  }
  x = rms_norm(g, w, x, ts.norm, eps);
  g.output(w.linear(g, x, ts.lm_head ? *ts.lm_head : ts.embed_tokens), "logits", Elem::F32,
           {"batch_size", "sequence_length", t.vocab_size});
}

}  // namespace qwen3vl::onnx_export
