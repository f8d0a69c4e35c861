// Safetensors files: an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets}, then the raw data.
// Reading maps the file; every offset, size and dtype is validated up front so
// a corrupt file fails at open with a message naming the file and tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

// A view of one stored tensor; `data` points into the mapped file.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
  std::string file;  // where it lives, for error messages

  int64_t numel() const;
  std::string shape_string() const;  // "[3, 4]"
  // Copies (converting) to float32.
  std::vector<float> to_f32() const;
};

class SafetensorsFile {
 public:
  // Opens, maps and validates; throws Error naming the path and tensor.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return file_.path(); }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws Error naming the tensor and the file when absent.
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Collects named tensors and writes one safetensors file (data 64-byte aligned
// after the header, as mmap-friendly as the format allows).
class SafetensorsWriter {
 public:
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data,
           size_t nbytes);
  void add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v);
  void add_i64(const std::string& name, std::vector<int64_t> shape, const std::vector<int64_t>& v);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // Throws Error naming the path on I/O failure.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace qwen3vl
