#include "qwen3vl/export/onnx/vision_graph.h"

#include <cmath>

#include "qwen3vl/base/error.h"
#include "qwen3vl/model/vision_inputs.h"

namespace qwen3vl::onnx_export {

namespace {

constexpr float kNormEps = 1e-6f;

std::string layer_norm(GraphBuilder& g, ExportWeights& w, const std::string& x, const NormSpec& norm) {
  check(norm.bias.has_value(), "onnx export: vision norm " + norm.weight.name + " has no bias");
  return g.op("LayerNormalization", {x, w.tensor(g, norm.weight), w.tensor(g, *norm.bias)},
              {attr("axis", int64_t(-1)), attr("epsilon", kNormEps)});
}

std::string gelu_erf(GraphBuilder& g, const std::string& x) {
  // 0.5 * x * (1 + erf(x / sqrt(2)))
  const std::string e = g.op("Erf", {g.mul(x, g.scalar_f32(float(M_SQRT1_2)))});
  return g.mul(g.mul(x, g.scalar_f32(0.5f)), g.add(e, g.scalar_f32(1.0f)));
}

std::string gelu_tanh(GraphBuilder& g, const std::string& x) {
  // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
  const std::string x3 = g.mul(g.mul(x, x), x);
  const std::string inner = g.mul(g.add(x, g.mul(x3, g.scalar_f32(0.044715f))),
                                  g.scalar_f32(float(std::sqrt(2.0 / M_PI))));
  return g.mul(g.mul(x, g.scalar_f32(0.5f)), g.add(g.op("Tanh", {inner}), g.scalar_f32(1.0f)));
}

// Per-patch layout of a batch of grids, all [patches] int64: which image
// (its first patch, its rows and columns), and the patch's (frame, y, x).
struct PatchLayout {
  std::string grid_h, grid_w;  // of the patch's image
  std::string segment;         // first patch of the patch's frame: equal => attend
  std::string y, x;            // patch row and column inside its image
};

PatchLayout patch_layout(GraphBuilder& g, const std::string& pixel_values, const std::string& thw, int m) {
  auto column = [&](int64_t c) { return g.gather(thw, g.scalar_i64(c), 1); };  // [images]
  const std::string t = column(0), h = column(1), w = column(2);
  const std::string hw = g.mul(h, w);
  const std::string count = g.mul(t, hw);
  const std::string ends = g.op("CumSum", {count, g.scalar_i64(0)});
  const std::string starts = g.sub(ends, count);

  // p = 0 .. patches-1 (the rows of pixel_values)
  const std::string n = g.squeeze(g.dim(pixel_values, 0), {0});
  const std::string p = g.op("Range", {g.scalar_i64(0), n, g.scalar_i64(1)});
  // The image of patch p is the number of images that end at or before p.
  const std::string past = g.op("GreaterOrEqual", {g.unsqueeze(p, {1}), g.unsqueeze(ends, {0})});
  const std::string image = g.op("ReduceSum", {g.cast(past, Elem::I64), g.const_i64({1})},
                                 {attr("keepdims", int64_t(0))});

  PatchLayout L;
  L.grid_h = g.gather(h, image, 0);
  L.grid_w = g.gather(w, image, 0);
  const std::string start = g.gather(starts, image, 0);
  const std::string plane = g.gather(hw, image, 0);
  const std::string local = g.sub(p, start);
  const std::string frame = g.div(local, plane);
  const std::string r = g.op("Mod", {local, plane});
  // Inside a frame, patches come in merge blocks of m x m: (h/m, w/m, m, m).
  const std::string mm = g.scalar_i64(int64_t(m) * m), mk = g.scalar_i64(m);
  const std::string block = g.div(r, mm), inner = g.op("Mod", {r, mm});
  const std::string blocks_w = g.div(L.grid_w, mk);
  const std::string bh = g.div(block, blocks_w), bw = g.op("Mod", {block, blocks_w});
  L.y = g.add(g.mul(bh, mk), g.div(inner, mk));
  L.x = g.add(g.mul(bw, mk), g.op("Mod", {inner, mk}));
  L.segment = g.add(start, g.mul(frame, plane));
  return L;
}

// One axis of the align-corners bilinear map of `index` (of `count` along
// the axis) onto a table side of `side` entries, as linspace_f32: the first
// half counts up from 0, the second half down from side-1.
struct AxisSample {
  std::string lo, hi;  // int64 table indices
  std::string frac;    // float weight of hi
};

AxisSample sample_axis(GraphBuilder& g, const std::string& index, const std::string& count, int side) {
  const std::string end = g.scalar_f32(float(side - 1));
  const std::string i = g.cast(index, Elem::F32);
  const std::string last = g.sub(count, g.scalar_i64(1));
  const std::string step = g.div(end, g.cast(last, Elem::F32));
  const std::string up = g.mul(step, i);
  const std::string down = g.sub(end, g.mul(step, g.cast(g.sub(last, index), Elem::F32)));
  const std::string first_half = g.op("Less", {index, g.div(count, g.scalar_i64(2))});
  std::string coord = g.op("Where", {first_half, up, down});
  // A single row/column samples the table's first entry (no division by zero).
  coord = g.op("Where", {g.op("Greater", {count, g.scalar_i64(1)}), coord, g.scalar_f32(0.0f)});
  const std::string floor = g.op("Floor", {coord});
  AxisSample a;
  a.lo = g.cast(floor, Elem::I64);
  a.hi = g.op("Min", {g.add(a.lo, g.scalar_i64(1)), g.scalar_i64(side - 1)});
  a.frac = g.sub(coord, floor);
  return a;
}

std::string position_embedding(GraphBuilder& g, ExportWeights& w, const PatchLayout& L, int side,
                               const TensorSpec& pos_table) {
  const AxisSample rows = sample_axis(g, L.y, L.grid_h, side);
  const AxisSample cols = sample_axis(g, L.x, L.grid_w, side);
  const std::string table = w.tensor(g, pos_table);
  const std::string s = g.scalar_i64(side);
  const std::string one = g.scalar_f32(1.0f);
  const std::string dy = rows.frac, dx = cols.frac;
  const std::string ndy = g.sub(one, dy), ndx = g.sub(one, dx);
  const std::string corners[4][2] = {{rows.lo, cols.lo}, {rows.lo, cols.hi}, {rows.hi, cols.lo}, {rows.hi, cols.hi}};
  const std::string weights[4] = {g.mul(ndy, ndx), g.mul(ndy, dx), g.mul(dy, ndx), g.mul(dy, dx)};
  std::string sum;
  for (int c = 0; c < 4; ++c) {
    const std::string idx = g.add(g.mul(corners[c][0], s), corners[c][1]);
    const std::string term = g.mul(g.gather(table, idx, 0), g.unsqueeze(weights[c], {1}));
    sum = c == 0 ? term : g.add(sum, term);
  }
  return sum;
}

// cos and sin [patches, head_dim]: row angles then column angles, repeated
// for both halves (applied with rotate_half).
std::pair<std::string, std::string> rotary_tables(GraphBuilder& g, const PatchLayout& L,
                                                  const std::vector<float>& inv_freq) {
  const std::string f = g.const_f32(inv_freq, {1, int64_t(inv_freq.size())});
  const std::string ry = g.mul(g.unsqueeze(g.cast(L.y, Elem::F32), {1}), f);
  const std::string rx = g.mul(g.unsqueeze(g.cast(L.x, Elem::F32), {1}), f);
  const std::string half = g.concat({ry, rx}, 1);
  const std::string full = g.concat({half, half}, 1);
  return {g.op("Cos", {full}), g.op("Sin", {full})};
}

// x * cos + rotate_half(x) * sin over the last axis.
std::string apply_rotary(GraphBuilder& g, const std::string& x, const std::string& cos, const std::string& sin,
                         int head_dim) {
  const std::string a = g.slice(x, g.const_i64({0}), g.const_i64({head_dim / 2}), -1);
  const std::string b = g.slice(x, g.const_i64({head_dim / 2}), g.const_i64({head_dim}), -1);
  const std::string rotated = g.concat({g.op("Neg", {b}), a}, -1);
  return g.add(g.mul(x, cos), g.mul(rotated, sin));
}

std::string merger(GraphBuilder& g, ExportWeights& w, const std::string& hidden, const PatchMergerSpec& spec,
                   bool norm_after_merge, int64_t merged_width) {
  std::string x;
  if (norm_after_merge) {
    x = layer_norm(g, w, g.reshape(hidden, {-1, merged_width}), spec.norm);
  } else {
    x = g.reshape(layer_norm(g, w, hidden, spec.norm), {-1, merged_width});
  }
  x = gelu_erf(g, w.linear(g, x, spec.fc1));
  return w.linear(g, x, spec.fc2);
}

}  // namespace

void build_vision_graph(GraphBuilder& g, ExportWeights& w, const VisionGraphNames& names) {
  const VisionConfig& c = w.config().vision;
  const VisionInputsSpec spec = VisionInputsSpec::from_config(c);
  check(c.hidden_act == "gelu_pytorch_tanh" || c.hidden_act == "gelu_new" || c.hidden_act == "gelu",
        "onnx export: vision hidden_act '" + c.hidden_act + "' is not supported");
  const int64_t H = c.hidden_size, hd = c.head_dim(), heads = c.num_heads;
  const int m = c.spatial_merge_size;
  const int64_t merged = H * m * m;
  const VisionModelSpec& vs = w.specs().vision;

  const std::string pixels = g.input("pixel_values", Elem::F32, {"num_patches", c.patch_dim()});
  const std::string thw = g.input("image_grid_thw", Elem::I64, {"num_images", 3});

  const PatchLayout L = patch_layout(g, pixels, thw, m);
  // Patch embedding: a Conv3d with stride = kernel is one matmul over the rows.
  std::string x = w.linear(g, pixels, vs.patch_embed);
  x = g.add(x, position_embedding(g, w, L, spec.position_table_side, vs.pos_embed));
  const auto [cos, sin] = rotary_tables(g, L, vision_rotary_inv_freq(spec));

  // Attention only within a frame of one image: an additive mask [1, P, P].
  const std::string same = g.op("Equal", {g.unsqueeze(L.segment, {1}), g.unsqueeze(L.segment, {0})});
  const std::string mask =
      g.unsqueeze(g.op("Where", {same, g.scalar_f32(0.0f), g.scalar_f32(-3.0e38f)}), {0});
  const std::string scale = g.scalar_f32(1.0f / std::sqrt(float(hd)));

  std::vector<std::string> deepstack(c.deepstack_visual_indexes.size());
  for (int b = 0; b < c.depth; ++b) {
    const VisionBlockSpec& blk = vs.blocks[b];
    const std::string n1 = layer_norm(g, w, x, blk.norm1);
    const std::string qkv = w.linear(g, n1, blk.qkv);
    // [P, 3H] -> [3, heads, P, hd]
    const std::string split = g.transpose(g.reshape(qkv, {0, 3, heads, hd}), {1, 2, 0, 3});
    const std::string q = apply_rotary(g, g.gather(split, g.scalar_i64(0), 0), cos, sin, int(hd));
    const std::string k = apply_rotary(g, g.gather(split, g.scalar_i64(1), 0), cos, sin, int(hd));
    const std::string val = g.gather(split, g.scalar_i64(2), 0);
    const std::string scores = g.add(g.mul(g.matmul(q, g.transpose(k, {0, 2, 1})), scale), mask);
    const std::string probs = g.op("Softmax", {scores}, {attr("axis", int64_t(-1))});
    const std::string attn = g.reshape(g.transpose(g.matmul(probs, val), {1, 0, 2}), {0, H});
    x = g.add(x, w.linear(g, attn, blk.proj));

    const std::string n2 = layer_norm(g, w, x, blk.norm2);
    std::string h = w.linear(g, n2, blk.fc1);
    h = c.hidden_act == "gelu" ? gelu_erf(g, h) : gelu_tanh(g, h);
    x = g.add(x, w.linear(g, h, blk.fc2));

    for (size_t j = 0; j < c.deepstack_visual_indexes.size(); ++j)
      if (c.deepstack_visual_indexes[j] == b)
        deepstack[j] = merger(g, w, x, vs.deepstack_mergers.at(j), true, merged);
  }
  const std::string features = merger(g, w, x, vs.merger, false, merged);
  const int64_t out = c.out_hidden_size;
  if (names.deepstack_as_columns) {
    std::vector<std::string> cols{features};
    cols.insert(cols.end(), deepstack.begin(), deepstack.end());
    const int64_t width = out * int64_t(cols.size());
    g.output(cols.size() == 1 ? features : g.concat(cols, 1), names.features, Elem::F32, {"num_tokens", width});
  } else {
    g.output(features, names.features, Elem::F32, {"num_tokens", out});
    for (size_t j = 0; j < deepstack.size(); ++j)
      g.output(deepstack[j], names.deepstack_prefix + std::to_string(j), Elem::F32, {"num_tokens", out});
  }
  w.require_used(vs.all());
}

}  // namespace qwen3vl::onnx_export
