// Turns a model's tensors into what the model code consumes, as their
// TensorSpec describes them: matrices as WeightMatrix (zero-copy views into
// the mapped file when the stored format is kept) and small vectors (norm
// weights, biases) as float32. Shapes are validated here so a wrong
// checkpoint fails at load, naming the tensor and the file, instead of
// producing garbage later.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/weights/tensor_spec.h"
#include "qwen3vl/weights/weight_source.h"

namespace qwen3vl {

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
  // The format asked for a tensor: its class's, nullopt (as stored) for a
  // tensor without a weight class.
  std::optional<WeightFormat> format_for(const TensorSpec& spec) const;
};

// The matrix `spec` names as the source holds it: the weight prepared under
// its name (a pre-quantized view, or a weight converted at load), else a
// zero-copy [spec.rows(), spec.cols()] view of the stored BF16/F16/F32
// tensor, whose shape must be spec.shape. Throws Error naming the tensor and
// file on a shape mismatch or another dtype.
WeightMatrix stored_matrix(const WeightSource& source, const TensorSpec& spec);

// The weight format of a stored F32/BF16/F16 tensor; Error naming the tensor
// and file for another dtype.
WeightFormat stored_format(const TensorView& t);

// A zero-copy [spec.rows(), spec.cols()] view of the stored F32/BF16/F16
// tensor `t` (whose shape the caller has checked against spec.shape).
WeightMatrix stored_matrix_view(const TensorView& t, const TensorSpec& spec);

// As above, then converted to the format `options` asks for the spec.
WeightMatrix load_matrix(const WeightSource& source, const TensorSpec& spec, const WeightOptions& options);

// Converts `stored` to `target`: identity, widening to F32 here, anything else
// through `convert` (Error naming `name` when it is empty).
WeightMatrix convert_weight(const WeightMatrix& stored, std::optional<WeightFormat> target,
                            const WeightConverter& convert, const std::string& name);

// Mixture-of-Experts tensors (TensorKind::Experts) hold `spec.experts()`
// matrices fused as [experts, in, out]; the engine keeps each expert as its
// own [out, in] WeightMatrix, the layout every kernel reads.
//
// The key under which expert `e` of the fused tensor `name` is registered as
// a prepared weight (WeightSource::set_prepared): "name[e]".
std::string expert_weight_name(const std::string& name, int64_t e);

// Expert `e` of the stored F32/BF16/F16 Experts tensor `t` ([experts, in,
// out]), transposed to an owned [out, in] matrix of the same dtype (a copy,
// values unchanged).
WeightMatrix transposed_expert(const TensorView& t, int64_t e);

// Every expert of an Experts tensor as [out, in] matrices in the format
// `options` asks for the spec: the prepared weights when the checkpoint has
// them (a model file's quantized experts, or those converted at load), else
// transposed from the stored tensor (whose pages are then released) and
// converted. Throws Error naming the tensor and file on a shape or dtype
// mismatch.
std::vector<WeightMatrix> load_experts(const WeightSource& source, const TensorSpec& spec,
                                       const WeightOptions& options);

// A small tensor (norm weight, bias) copied to float32 after checking its shape.
std::vector<float> load_vector(const WeightSource& source, const TensorSpec& spec);
// Empty when the spec is absent (a bias the config switches off).
std::vector<float> load_vector(const WeightSource& source, const std::optional<TensorSpec>& spec);

}  // namespace qwen3vl
