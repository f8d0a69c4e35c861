// A read-only memory map of a whole file. Weights stay in the page cache and
// are shared between processes; nothing is copied unless a conversion needs it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "qwen3vl/base/regular_file.h"  // read_text_file

namespace qwen3vl {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error naming the path when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Tells the kernel this process no longer needs the whole pages inside
// [data, data + n) of a read-only file mapping: they leave the process's
// resident set (the page cache keeps them) and are read again from the file
// if touched. Used after a stored tensor has been converted, so that loading
// a quantized model does not keep the bf16 source resident. Advisory only.
void release_mapped_pages(const void* data, size_t n);

// Maps the pages of [data, data + n) of a file mapping into the page tables
// now (reading them from disk if they are not cached), so that the first
// use of a weight does not pay a page fault per 4 KB. Advisory only.
void prefault_mapped_pages(const void* data, size_t n);

bool file_exists(const std::string& path);

}  // namespace qwen3vl
