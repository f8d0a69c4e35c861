// Where the model code gets its tensors from, by Hugging Face name: a Hugging
// Face checkpoint directory (one model.safetensors, or shards listed in
// model.safetensors.index.json) or a single safetensors file (a qwen3vl model
// file, see docs/model-file-format.md). Tensors are validated against the
// shape the model expects.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/io/safetensors.h"

namespace qwen3vl {

class Checkpoint {
 public:
  // Opens every shard of the checkpoint in `path` (a directory), or the one
  // safetensors file `path`; throws Error naming the missing or corrupt file.
  explicit Checkpoint(const std::string& path);

  // The directory, or the file when opened from one.
  const std::string& dir() const { return dir_; }
  // The single file's metadata (empty for a directory).
  const std::map<std::string, std::string>& file_metadata() const;
  bool is_single_file() const { return single_file_; }
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
  bool single_file_ = false;
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, const TensorView*> index_;
};

}  // namespace qwen3vl
