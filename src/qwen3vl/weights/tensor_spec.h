// What a model expects of one stored tensor: its checkpoint name, its shape,
// what kind of numbers it holds and, for the matrices a weight format may
// convert, which class of weights it belongs to. A model lists its tensors as
// these (model/tensor_specs.h) and every consumer — the loaders, `quantize`,
// make-random-model, the ONNX exporter — reads that one list.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qwen3vl {

// Which group of weights a matrix belongs to; each group can be stored in its
// own format (e.g. keep the head in int8 while the MLPs go to int4).
enum class WeightClass { EmbeddingHead, Attention, Mlp, Vision };

// What the numbers are. Decides how a random checkpoint fills the tensor and
// how the model reads it.
enum class TensorKind {
  Matrix,         // [out, in] linear weight, or an embedding table read by rows
  Conv,           // convolution kernel [out, ...], used as the matrix [out, product of the rest]
  PositionTable,  // learned position embedding [positions, hidden], interpolated, never multiplied
  NormWeight,     // RMSNorm / LayerNorm scale (near 1)
  Bias,           // additive bias (small)
  Experts,        // a MoE layer's fused expert weights [experts, in, out], applied as x @ W[e]
                  // (Hugging Face layout, no ".weight" suffix); used as `experts` [out, in] matrices
};

struct TensorSpec {
  std::string name;             // as the checkpoint names it
  std::vector<int64_t> shape;   // as the checkpoint stores it
  TensorKind kind = TensorKind::Matrix;
  // Set for the matrices a weight format (--quant) converts; unset tensors
  // are always used as stored (or widened to float32).
  std::optional<WeightClass> weight_class;

  int64_t numel() const;
  // The matrix a Matrix or Conv tensor is used as: shape[0] rows by the
  // product of the remaining dimensions. For Experts: one expert's matrix,
  // [out, in] = [shape[2], shape[1]].
  int64_t rows() const;
  int64_t cols() const;
  // Experts: how many matrices the tensor holds (shape[0]); otherwise 0.
  int64_t experts() const;
};

// A linear layer: weight [out, in] and its bias [out] when it has one.
struct LinearSpec {
  TensorSpec weight;
  std::optional<TensorSpec> bias;
  void append_to(std::vector<TensorSpec>& out) const;
};

// A normalisation layer's scale and, for LayerNorm, its bias.
struct NormSpec {
  TensorSpec weight;
  std::optional<TensorSpec> bias;
  void append_to(std::vector<TensorSpec>& out) const;
};

}  // namespace qwen3vl
