#include "qwen3vl/export/onnx/export_weights.h"

#include <algorithm>

#include "qwen3vl/base/error.h"
#include "qwen3vl/export/onnx/matmul_nbits.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl::onnx_export {

Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::F32;
  if (s == "fp16") return Precision::F16;
  if (s == "int4") return Precision::Int4;
  throw Error("unknown precision '" + s + "' (expected fp32, fp16 or int4)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::F32: return "fp32";
    case Precision::F16: return "fp16";
    case Precision::Int4: return "int4";
  }
  return "?";
}

ExportWeights::ExportWeights(const ModelConfig& config, const Checkpoint& checkpoint, Precision precision,
                             int block_size)
    : config_(config),
      specs_(qwen3vl_tensor_specs(config)),
      ckpt_(checkpoint),
      precision_(precision),
      block_size_(block_size) {
  check(block_size == 32 || block_size == 64 || block_size == 128,
        "--block-size must be 32, 64 or 128 (got " + std::to_string(block_size) + ")");
  // Only plain stored weights can be exported: the int4 scheme is computed
  // from source weights, never from another quantization.
  for (const TensorSpec& s : specs_.all()) {
    const TensorView& t = ckpt_.get(s.name, s.shape);
    check(t.dtype == DType::F32 || t.dtype == DType::BF16 || t.dtype == DType::F16,
          "cannot export " + s.name + ": it is stored as " + dtype_name(t.dtype) +
              "; export from the original Hugging Face checkpoint (bf16/f16/f32 weights), not a quantized file");
  }
}

std::vector<float> ExportWeights::f32(const TensorSpec& spec) {
  used_.insert(spec.name);
  return ckpt_.get(spec.name, spec.shape).to_f32();
}

namespace {

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_f16(v[i]);
  return h;
}

// [rows, cols] -> [cols, rows].
std::vector<float> transposed(const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::vector<float> t(w.size());
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) t[c * rows + r] = w[r * cols + c];
  return t;
}

std::string stored_value(GraphBuilder& g, const std::string& name, const std::vector<int64_t>& shape,
                         const std::vector<float>& v, bool half) {
  if (!half) return g.weight_f32(name, shape, v);
  const std::vector<uint16_t> h = to_f16(v);
  const std::string stored = g.initializer(name, Elem::F16, shape, h.data(), h.size() * 2);
  return g.cast(stored, Elem::F32);
}

}  // namespace

std::string ExportWeights::tensor(GraphBuilder& g, const TensorSpec& spec) {
  // Norm weights and biases are tiny and sensitive: always float32.
  const bool small = spec.kind == TensorKind::NormWeight || spec.kind == TensorKind::Bias;
  return stored_value(g, spec.name, spec.shape, f32(spec), half_storage() && !small);
}

std::string ExportWeights::linear(GraphBuilder& g, const std::string& x, const TensorSpec& weight,
                                  const std::optional<TensorSpec>& bias) {
  check(weight.kind == TensorKind::Matrix || weight.kind == TensorKind::Conv,
        "onnx export: " + weight.name + " is not a matrix");
  // A convolution whose stride equals its kernel (the patch embedding) is a
  // matrix over its flattened input patches.
  const int64_t out = weight.rows(), in = weight.cols();
  const bool quantized = precision_ == Precision::Int4 && weight.weight_class.has_value();
  std::string y;
  if (quantized) {
    // As our q4 format: int4 attention and MLP, int8 head and vision tower.
    const WeightClass c = *weight.weight_class;
    const int bits = c == WeightClass::Attention || c == WeightClass::Mlp ? 4 : 8;
    const std::vector<float> w = f32(weight);
    y = matmul_nbits(g, x, weight.name, quantize_nbits(w.data(), out, in, block_size_, bits));
  } else {
    y = g.matmul(x, stored_value(g, weight.name, {in, out}, transposed(f32(weight), out, in), half_storage()));
  }
  if (bias) y = g.add(y, tensor(g, *bias));
  return y;
}

std::string ExportWeights::embedding(GraphBuilder& g, const std::string& ids, const TensorSpec& table) {
  if (!half_storage()) return g.gather(g.weight_f32(table.name, table.shape, f32(table)), ids, 0);
  // Gather the float16 rows first, then widen only those.
  const std::vector<uint16_t> h = to_f16(f32(table));
  const std::string stored = g.initializer(table.name, Elem::F16, table.shape, h.data(), h.size() * 2);
  return g.cast(g.gather(stored, ids, 0), Elem::F32);
}

void ExportWeights::require_used(const std::vector<TensorSpec>& part) const {
  std::vector<std::string> missing;
  for (const TensorSpec& s : part)
    if (!used_.count(s.name)) missing.push_back(s.name);
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
  throw Error("onnx export: " + std::to_string(missing.size()) + " tensors of the model are not in the graph (" +
              list + (missing.size() > 5 ? ", ..." : "") + ")");
}

}  // namespace qwen3vl::onnx_export
