// Writes a safetensors file tensor by tensor, so a model far larger than
// memory can be written while each tensor is produced (quantized) in turn.
// The header is written first from the declared entries; every entry's data
// then starts at a 64-byte aligned offset of the data section, which itself
// starts 64-byte aligned in the file (the header is padded with spaces, as the
// format allows), so every tensor can be used in place from a mapping.
// The file is written through an AtomicFile (a fresh temporary file in the
// same directory, renamed on commit()): an interrupted write never leaves a
// truncated file under the final name, and no planted symlink is followed.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

class SafetensorsStreamWriter {
 public:
  struct Entry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    size_t nbytes = 0;  // must equal numel(shape) * dtype_size(dtype)
  };

  // Creates the temporary file and writes the header for `entries`, whose data must
  // then be written in this order. Throws Error naming the path.
  SafetensorsStreamWriter(std::string path, std::vector<Entry> entries,
                          const std::map<std::string, std::string>& metadata);
  // Removes the temporary file unless commit() succeeded.
  ~SafetensorsStreamWriter();
  SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
  SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

  // The data of the next entry; throws Error if `name` or `nbytes` is not
  // what the header declared next.
  void write_next(const std::string& name, const void* data, size_t nbytes);
  // Checks that every entry was written, flushes and renames to `path`.
  void commit();

  // The header's byte length (after the 8-byte length field), for tests/docs.
  uint64_t header_bytes() const { return header_bytes_; }

 private:
  std::string path_;
  std::vector<Entry> entries_;
  std::vector<uint64_t> offsets_;  // of each entry, relative to the data section
  std::unique_ptr<AtomicFile> out_;
  size_t next_ = 0;
  uint64_t position_ = 0;  // bytes of the data section written so far
  uint64_t header_bytes_ = 0;
};

}  // namespace qwen3vl
