#include "qwen3vl/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;

// Temporary paths a signal handler may have to unlink. Fixed storage: the
// handler can neither allocate nor lock. More concurrent writers than slots
// just go unregistered (they are still removed on destruction).
constexpr int kSlots = 32;
constexpr size_t kPathBytes = 4096;
struct PendingSlot {
  std::atomic<bool> used{false};     // claimed by a writer
  std::atomic<bool> armed{false};    // path below is complete and pending
  char path[kPathBytes];
};
PendingSlot g_pending[kSlots];

int register_pending(const std::string& path) {
  if (path.size() + 1 > kPathBytes) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_pending[i].used.compare_exchange_strong(expected, true)) {
      std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
      g_pending[i].armed.store(true);
      return i;
    }
  }
  return -1;
}

void unregister_pending(int slot) {
  if (slot < 0) return;
  g_pending[slot].armed.store(false);
  g_pending[slot].used.store(false);
}

// The permissions a plain open(O_CREAT, 0666) would give: mkstemp makes 0600.
// Read from /proc (umask() would briefly change it for every thread).
mode_t creation_mode() {
  mode_t mask = 022;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f))
      if (std::strncmp(line, "Umask:", 6) == 0) mask = static_cast<mode_t>(std::strtoul(line + 6, nullptr, 8));
    std::fclose(f);
  }
  return 0666 & ~mask;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_.empty() || path_.back() == '/') throw Error("output path '" + path_ + "' names no file");
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error("cannot write " + path_ + ": it is a directory");
  std::string pattern = directory_of(path_) + "/." + name_of(path_) + ".XXXXXX";
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot create a file next to " + path_ + ": " + std::strerror(errno));
  temporary_path_ = pattern;
  slot_ = register_pending(temporary_path_);
  ::fchmod(fd_, creation_mode());
  buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_path_.c_str());
  unregister_pending(slot_);
  slot_ = -1;
}

void AtomicFile::flush_buffer() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      buffer_.clear();
      throw Error("error writing " + path_ + ": " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buffer_.clear();
}

void AtomicFile::write(const void* data, size_t n) {
  if (fd_ < 0) throw Error("write to " + path_ + " after it was committed or failed");
  const char* bytes = static_cast<const char*>(data);
  if (buffer_.size() + n > kBufferBytes) {
    flush_buffer();
    if (n >= kBufferBytes) {  // large blocks go straight through
      buffer_.assign(bytes, bytes + n);
      flush_buffer();
      buffer_.shrink_to_fit();
      buffer_.reserve(kBufferBytes);
      return;
    }
  }
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error("commit of " + path_ + " after it was committed or failed");
  try {
    flush_buffer();
    if (::fsync(fd_) != 0) throw Error("cannot sync " + path_ + ": " + std::strerror(errno));
    if (::close(fd_) != 0) {
      fd_ = -1;
      throw Error("error writing " + path_ + ": " + std::strerror(errno));
    }
    fd_ = -1;
    if (::rename(temporary_path_.c_str(), path_.c_str()) != 0)
      throw Error("cannot rename " + temporary_path_ + " to " + path_ + ": " + std::strerror(errno));
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temporary_path_.c_str());
    unregister_pending(slot_);
    slot_ = -1;
    throw;
  }
  unregister_pending(slot_);
  slot_ = -1;
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

void remove_pending_temporary_files() noexcept {
  for (PendingSlot& slot : g_pending)
    if (slot.armed.load()) ::unlink(slot.path);
}

}  // namespace qwen3vl
