// The model's tensors as an exported graph takes them: looked up by the names
// and shapes of the model layer's tensor description (model/tensor_specs.h),
// read from the source checkpoint, and written as initializers in the
// export's precision. Each graph asks for the tensors it uses; at the end
// every tensor of the parts a graph covers must have been used, so a tensor
// added to the description cannot be silently left out of an export.
#pragma once
#include <cstdint>
#include <map>
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
  Precision precision() const { return precision_; }
  int block_size() const { return block_size_; }

  const TensorSpec& spec(const std::string& name) const;
  bool has(const std::string& name) const { return specs_.count(name) != 0; }
  // The tensor in float32, checked against its spec; marks it used.
  std::vector<float> f32(const std::string& name);

  // A float32 value of the whole tensor in `g` (float16 storage plus a Cast
  // unless the precision is fp32).
  std::string tensor(GraphBuilder& g, const std::string& name);
  // x @ W^T (+ bias) for the [out, in] weight `name`: a MatMul over the
  // transposed weight, or com.microsoft MatMulNBits for the decoder's
  // attention/MLP/head weights at int4. `bias` may be empty.
  std::string linear(GraphBuilder& g, const std::string& x, const std::string& name, const std::string& bias = "");
  // As linear() but forcing plain (fp32/fp16) weights whatever the precision.
  std::string linear_plain(GraphBuilder& g, const std::string& x, const std::string& name,
                           const std::string& bias = "");
  // Rows of the [rows, cols] table `name` gathered by `ids` (any shape):
  // [..., cols] float32. At int4 the table is kept in float16.
  std::string embedding(GraphBuilder& g, const std::string& ids, const std::string& name);

  // Throws Error listing the tensors with these roles (or whose names start
  // with `prefix`) that no graph used.
  void require_used(const std::vector<TensorRole>& roles, const std::string& prefix = "") const;
  // Tensors the graph uses stored as float16 (fp16 / int4 exports).
  bool half_storage() const { return precision_ != Precision::F32; }

 private:
  ModelConfig config_;
  const Checkpoint& ckpt_;
  Precision precision_;
  int block_size_;
  std::map<std::string, TensorSpec> specs_;
  std::set<std::string> used_;
};

}  // namespace qwen3vl::onnx_export
