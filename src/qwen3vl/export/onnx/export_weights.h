// The model's tensors as an exported graph takes them: looked up by the names
// and shapes of the model layer's tensor description (model/tensor_specs.h),
// read from the source checkpoint, and written as initializers in the
// export's precision. Each graph asks for the tensors it uses; at the end
// every tensor of the parts a graph covers must have been used, so a tensor
// added to the description cannot be silently left out of an export.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "qwen3vl/export/onnx/graph_builder.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"

namespace qwen3vl::onnx_export {

enum class Precision { F32, F16, Int4 };

// "fp32" / "fp16" / "int4"; throws Error naming the value otherwise.
Precision parse_precision(const std::string& s);
const char* precision_name(Precision p);

class ExportWeights {
 public:
  // Throws Error when the checkpoint cannot be exported (pre-quantized
  // tensors, a tensor missing or misshapen).
  ExportWeights(const ModelConfig& config, const Checkpoint& checkpoint, Precision precision, int block_size);

  const ModelConfig& config() const { return config_; }
  const ModelTensorSpecs& specs() const { return specs_; }
  Precision precision() const { return precision_; }
  int block_size() const { return block_size_; }

  // The tensor in float32, checked against its spec; marks it used.
  std::vector<float> f32(const TensorSpec& spec);

  // A float32 value of the whole tensor in `g`: norm weights and biases as
  // float32, anything else float16 plus a Cast unless the precision is fp32.
  std::string tensor(GraphBuilder& g, const TensorSpec& spec);
  // x @ W^T (+ bias) for a [out, in] (or convolution [out, ...]) weight: a
  // MatMul over the transposed weight, or com.microsoft MatMulNBits at int4
  // (4 bits for attention and MLP, 8 bits for the head and the vision tower,
  // as our q4 format).
  std::string linear(GraphBuilder& g, const std::string& x, const TensorSpec& weight,
                     const std::optional<TensorSpec>& bias = std::nullopt);
  std::string linear(GraphBuilder& g, const std::string& x, const LinearSpec& l) {
    return linear(g, x, l.weight, l.bias);
  }
  // Rows of the [rows, cols] table gathered by `ids` (any shape): [..., cols]
  // float32. At fp16/int4 the table is kept in float16.
  std::string embedding(GraphBuilder& g, const std::string& ids, const TensorSpec& table);

  // Throws Error listing the tensors of `part` that no graph used: a tensor
  // the model lists cannot be silently left out of an export.
  void require_used(const std::vector<TensorSpec>& part) const;
  bool half_storage() const { return precision_ != Precision::F32; }

 private:
  ModelConfig config_;
  ModelTensorSpecs specs_;
  const Checkpoint& ckpt_;
  Precision precision_;
  int block_size_;
  std::set<std::string> used_;
};

}  // namespace qwen3vl::onnx_export
