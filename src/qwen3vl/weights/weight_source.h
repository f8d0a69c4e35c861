// Where the model's loaders get their weights: a checkpoint's stored tensors
// plus "prepared" matrices — weights already in the format the model will
// compute with (views of the pre-quantized tensors of a model file, or
// weights converted at load). The loaders (weight_loading.h) prefer a
// prepared weight to the stored tensor of the same name, so model code does
// not care where its weights come from.
//
// It borrows the checkpoint, which must outlive every weight loaded through
// it (stored formats are views into its mapping); prepared weights own their
// storage or point into that same mapping, so the source itself may go once
// loading is done.
#pragma once
#include <map>
#include <string>

#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

class WeightSource {
 public:
  // Implicit: a checkpoint alone is a source without prepared weights.
  WeightSource(const Checkpoint& tensors, std::map<std::string, WeightMatrix> prepared = {})
      : tensors_(&tensors), prepared_(std::move(prepared)) {}

  const Checkpoint& tensors() const { return *tensors_; }

  // Registers a ready-made weight under a tensor name (replacing any earlier
  // one); `prepared(name)` returns it, or null.
  void set_prepared(const std::string& name, WeightMatrix weight) { prepared_[name] = std::move(weight); }
  const WeightMatrix* prepared(const std::string& name) const {
    auto it = prepared_.find(name);
    return it == prepared_.end() ? nullptr : &it->second;
  }

 private:
  const Checkpoint* tensors_;
  std::map<std::string, WeightMatrix> prepared_;
};

}  // namespace qwen3vl
