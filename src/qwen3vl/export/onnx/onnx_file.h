// Writing and validating .onnx files. Initializers of at least 1 KiB are
// streamed to `<file>.data` while the graph is built (page-aligned, so a
// runtime can map them); when the model turns out to be smaller than
// protobuf's 2 GB limit they are moved back into the .onnx file, so small
// models are one file and big ones use external data. Every written file is
// then read back and passed through the ONNX checker and strict shape
// inference (with schemas for the com.microsoft ops we emit registered, so
// those nodes are inferred too).
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

class ExternalDataStore : public TensorStore {
 public:
  // `model_path`: the .onnx file the data belongs to; data goes to
  // model_path + suffix (".data" for genai, "_data" as transformers.js
  // expects). `on_bytes` is called with the running total.
  ExternalDataStore(const std::string& model_path, const std::string& suffix,
                    std::function<void(uint64_t)> on_bytes = {});
  ~ExternalDataStore() override;
  void store(onnx::TensorProto& tensor, const void* bytes, size_t nbytes) override;
  uint64_t external_bytes() const { return offset_; }
  const std::string& data_path() const { return data_path_; }
  const std::string& location() const { return location_; }
  // Closes the data file; throws Error when its last bytes cannot be written.
  void close();

 private:
  std::string data_path_, location_;
  std::ofstream out_;
  uint64_t offset_ = 0;
  std::function<void(uint64_t)> on_bytes_;
};

// Writes `model` to `path` (inlining `store`'s data when it fits, unless
// `keep_external`), then validates the file. Throws Error naming the file and
// the failure.
void write_model(onnx::ModelProto& model, const std::string& path, ExternalDataStore& store,
                 bool keep_external = false);

// ONNX checker + strict, type-checking shape inference of a written file.
void validate_model_file(const std::string& path);

}  // namespace qwen3vl::onnx_export
