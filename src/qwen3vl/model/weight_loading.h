// Turns checkpoint tensors into what the model code consumes: linear-layer
// weights as WeightMatrix (zero-copy views into the mapped file when the
// stored format is kept) and small vectors (norm weights, biases) as float32.
// Shapes are validated here so a wrong checkpoint fails at load, naming the
// tensor and the file, instead of producing garbage later.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

// Which group of tensors a weight belongs to; each group can be stored in its
// own format (e.g. keep the head in bf16 while quantizing the MLPs).
enum class WeightClass { EmbeddingHead, Attention, Mlp, Vision };

// Converts a weight (as stored) to `target`. Installed by whatever provides
// the formats the loader cannot make itself (quantization). `name` is for
// error messages.
using WeightConverter =
    std::function<WeightMatrix(const WeightMatrix& stored, WeightFormat target, const std::string& name)>;

struct WeightOptions {
  // nullopt keeps the checkpoint's own format (a zero-copy view).
  std::optional<WeightFormat> embedding_head;
  std::optional<WeightFormat> attention;
  std::optional<WeightFormat> mlp;
  std::optional<WeightFormat> vision;
  // Used for every target other than "as stored" and F32; loading throws if
  // such a target is asked for and this is empty.
  WeightConverter convert;

  std::optional<WeightFormat> format_for(WeightClass c) const;
};

// The weight the checkpoint has prepared under `name` (a pre-quantized view
// or a weight converted at load, see Checkpoint::prepared), else a zero-copy
// [rows, cols] view of a BF16/F16/F32 tensor. Throws Error naming the tensor
// and file on a shape mismatch or another dtype.
WeightMatrix linear_weight(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols);

// A zero-copy [rows, cols] view of a stored F32/BF16/F16 tensor whose element
// count is rows*cols (a convolution kernel flattened to its output rows, say).
// `what` names the kind of weight in the error for another dtype.
WeightMatrix tensor_as_weight(const TensorView& t, int64_t rows, int64_t cols, const std::string& what);

// As above, then converted to the format `options` asks for `cls`.
WeightMatrix linear_weight(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols,
                           WeightClass cls, const WeightOptions& options);

// Converts `stored` to `target`: identity, widening to F32 here, anything else
// through `convert` (Error naming `name` when it is empty).
WeightMatrix convert_weight(const WeightMatrix& stored, std::optional<WeightFormat> target,
                            const WeightConverter& convert, const std::string& name);

// Mixture-of-Experts weights are stored fused, [experts, in, out], and the
// reference applies them as x @ W[e]. The engine keeps each expert as its own
// [out, in] WeightMatrix, the layout every kernel reads.
//
// The key under which expert `e` of the fused tensor `name` is registered as
// a prepared weight (Checkpoint::set_prepared): "name[e]".
std::string expert_weight_name(const std::string& name, int64_t e);

// Expert `e` of a stored F32/BF16/F16 tensor [experts, in, out], transposed to
// an owned [out, in] matrix of the same dtype (a copy; values unchanged).
WeightMatrix transposed_expert(const TensorView& t, int64_t e, int64_t in, int64_t out);

// Every expert of the fused tensor `name` ([experts, in, out] as stored), as
// [out, in] matrices in the format `options` asks for `cls`: the prepared
// weights when the checkpoint has them for every expert (a model file's
// quantized experts, or the ones converted at load), else transposed from the
// stored tensor and converted. Throws Error naming the tensor and file on a
// shape or dtype mismatch.
std::vector<WeightMatrix> expert_weights(const Checkpoint& ckpt, const std::string& name, int64_t experts,
                                         int64_t in, int64_t out, WeightClass cls, const WeightOptions& options);

// A small tensor (norm weight, bias) copied to float32 after checking its shape.
std::vector<float> vector_f32(const Checkpoint& ckpt, const std::string& name,
                              const std::vector<int64_t>& shape);

}  // namespace qwen3vl
