// A Hugging Face checkpoint directory: one model.safetensors, or shards listed
// in model.safetensors.index.json. Tensors are looked up by their HF names and
// validated against the shape the model expects.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/io/safetensors.h"

namespace qwen3vl {

class Checkpoint {
 public:
  // Opens every shard of the checkpoint in `dir`; throws Error naming the
  // missing or corrupt file.
  explicit Checkpoint(const std::string& dir);

  const std::string& dir() const { return dir_; }
  bool has(const std::string& name) const;
  // Throws Error naming the tensor (and the shard it should be in) when absent.
  const TensorView& get(const std::string& name) const;
  // As get(), and checks the shape; throws Error with both shapes otherwise.
  const TensorView& get(const std::string& name, const std::vector<int64_t>& shape) const;
  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  // Total bytes of tensor data.
  size_t total_bytes() const;

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, const TensorView*> index_;
};

}  // namespace qwen3vl
