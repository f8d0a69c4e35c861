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

// Builds a directory of files the same way (an ONNX export): the files go
// into a fresh directory beside `path`, made by mkdtemp (mode 0700 while it
// fills, so nobody can plant a link in it), and commit() puts it in place in
// one rename: onto a free name without replacing anything that appeared
// meanwhile, or exchanged atomically with the directory already there (which
// is then removed), so a reader sees the old directory or the new one, never
// a mix. A symlink at `path` is replaced, not followed; a file that is not a
// directory is never replaced. Destroyed without commit(), the temporary
// directory is removed with everything in it.
class AtomicDirectory {
 public:
  // Creates the temporary directory; `path`'s parent must exist. Throws
  // Error naming the path.
  explicit AtomicDirectory(std::string path);
  ~AtomicDirectory();
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  // Renames the filled directory into place (see above). Throws Error naming
  // the path on failure; the temporary directory is then removed.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void discard() noexcept;
  std::string path_, temporary_path_;
  bool pending_ = false;
  int slot_ = -1;  // in the registry of pending temporary files
};

// Unlinks every temporary file of an AtomicFile, and removes every temporary
// directory of an AtomicDirectory (two levels deep), not yet committed or
// destroyed. Async-signal-safe: meant for SIGINT/SIGTERM handlers, so an
// interrupted `quantize` or `export-onnx` leaves nothing behind.
void remove_pending_temporary_files() noexcept;

}  // namespace qwen3vl
