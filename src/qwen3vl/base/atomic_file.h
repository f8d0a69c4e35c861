// Writes a file so that its final name only ever shows a complete file, and
// never writes through a link someone planted: the data goes to a fresh
// temporary file in the target's directory, created by mkstemp (O_CREAT |
// O_EXCL: an existing file or symlink under that name is never opened), is
// flushed to disk and renamed over the final name by commit(). A symlink at
// the final name is replaced, not followed. Destroyed without commit() (an
// error, an exception), the temporary file is removed; a signal handler can
// remove the ones still open with remove_pending_temporary_files().
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

class AtomicFile {
 public:
  // Creates the temporary file next to `path`. Throws Error naming the path
  // (missing directory, no permission, `path` is a directory).
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends bytes; throws Error naming the path on a failed write (disk full).
  void write(const void* data, size_t n);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Flushes, syncs and renames into place. Throws Error on failure (the
  // temporary file is then removed and the final name left untouched).
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void flush_buffer();
  void discard() noexcept;
  std::string path_, temporary_path_;
  int fd_ = -1;
  int slot_ = -1;  // in the registry of pending temporary files
  std::vector<char> buffer_;
};

// Writes `contents` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view contents);

// Unlinks every temporary file of an AtomicFile not yet committed or
// destroyed. Async-signal-safe: meant for SIGINT/SIGTERM handlers, so an
// interrupted `quantize` leaves nothing behind.
void remove_pending_temporary_files() noexcept;

}  // namespace qwen3vl
