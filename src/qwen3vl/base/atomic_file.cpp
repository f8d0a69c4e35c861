#include "qwen3vl/base/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/regular_file.h"

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
  bool directory = false;            // an AtomicDirectory's tree
  char path[kPathBytes];
};
PendingSlot g_pending[kSlots];

int register_pending(const std::string& path, bool directory = false) {
  if (path.size() + 1 > kPathBytes) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_pending[i].used.compare_exchange_strong(expected, true)) {
      std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
      g_pending[i].directory = directory;
      g_pending[i].armed.store(true);
      return i;
    }
  }
  return -1;
}

// Empties the directory open as `dir` (entries and, `depth` levels down,
// subdirectories), with system calls only: usable in a signal handler.
// Links are unlinked, never followed (O_NOFOLLOW).
void empty_directory_tree(int dir, int depth) noexcept {
  alignas(8) char buffer[4096];
  bool removed_any = false;
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buffer, sizeof(buffer));
    if (n <= 0) {
      if (!removed_any) return;  // a pass that removed nothing: done (or stuck)
      removed_any = false;
      ::lseek(dir, 0, SEEK_SET);
      continue;
    }
    for (long at = 0; at < n;) {
      struct Entry {
        uint64_t ino;
        int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const Entry* e = reinterpret_cast<const Entry*>(buffer + at);
      at += e->reclen;
      if (std::strcmp(e->name, ".") == 0 || std::strcmp(e->name, "..") == 0) continue;
      if (e->type != DT_DIR) {  // DT_UNKNOWN: unlink tells (EISDIR)
        if (::unlinkat(dir, e->name, 0) == 0) {
          removed_any = true;
          continue;
        }
        if (errno != EISDIR) continue;
      }
      if (depth > 0) {
        const int sub = ::openat(dir, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          empty_directory_tree(sub, depth - 1);
          ::close(sub);
        }
      }
      if (::unlinkat(dir, e->name, AT_REMOVEDIR) == 0) removed_any = true;
    }
    // Reading on after removals may skip entries: the end of the listing
    // starts another pass while the last one removed something.
  }
}

void remove_directory_tree(const char* path, int depth) noexcept {
  const int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir >= 0) {
    empty_directory_tree(dir, depth);
    ::close(dir);
  }
  ::rmdir(path);
}

void unregister_pending(int slot) {
  if (slot < 0) return;
  g_pending[slot].armed.store(false);
  g_pending[slot].used.store(false);
}

// The process's umask, read from /proc (umask() would briefly change it for
// every thread): mkstemp and mkdtemp make 0600 and 0700, a plain open(O_CREAT,
// 0666) or mkdir(0777) would honour the umask.
mode_t process_umask() {
  mode_t mask = 022;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f))
      if (std::strncmp(line, "Umask:", 6) == 0) mask = static_cast<mode_t>(std::strtoul(line + 6, nullptr, 8));
    std::fclose(f);
  }
  return mask;
}

// Holds SIGINT, SIGTERM and SIGHUP in the calling thread while a temporary
// file or directory is created and registered: a Ctrl-C arriving between the
// two would find nothing to remove. Pending signals are delivered when the
// scope ends (a signal sent to another thread of a multi-threaded process can
// still fall into that gap of a few instructions).
class InterruptionsHeld {
 public:
  InterruptionsHeld() {
    sigset_t held;
    sigemptyset(&held);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held, s);
    pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  ~InterruptionsHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

 private:
  sigset_t previous_;
};

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
  const InterruptionsHeld held;
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot create a file next to " + path_ + ": " + std::strerror(errno));
  temporary_path_ = pattern;
  slot_ = register_pending(temporary_path_);
  ::fchmod(fd_, 0666 & ~process_umask());
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

AtomicDirectory::AtomicDirectory(std::string path) : path_(std::move(path)) {
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  if (path_.empty() || name_of(path_) == "." || name_of(path_) == "..")
    throw Error("output path '" + path_ + "' names no directory");
  std::string pattern = directory_of(path_) + "/." + name_of(path_) + ".XXXXXX";
  const InterruptionsHeld held;
  if (!::mkdtemp(pattern.data()))
    throw Error("cannot create a directory next to " + path_ + ": " + std::strerror(errno));
  temporary_path_ = pattern;
  pending_ = true;
  slot_ = register_pending(temporary_path_, /*directory=*/true);
}

AtomicDirectory::~AtomicDirectory() { discard(); }

void AtomicDirectory::discard() noexcept {
  if (!pending_) return;
  std::error_code ec;
  std::filesystem::remove_all(temporary_path_, ec);
  pending_ = false;
  unregister_pending(slot_);
  slot_ = -1;
}

void AtomicDirectory::commit() {
  if (!pending_) throw Error("commit of " + path_ + " after it was committed or failed");
  try {
    // Readable as a directory made by mkdir(0777) under the umask would be.
    if (::chmod(temporary_path_.c_str(), 0777 & ~process_umask()) != 0)
      throw Error("cannot set the permissions of " + temporary_path_ + ": " + std::strerror(errno));
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) {
      if (errno != ENOENT) throw Error("cannot inspect " + path_ + ": " + std::strerror(errno));
      // Free: take the name unless something appeared there meanwhile.
      if (::renameat2(AT_FDCWD, temporary_path_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) != 0)
        throw Error("cannot rename " + temporary_path_ + " to " + path_ + ": " + std::strerror(errno));
    } else {
      if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
        throw Error("cannot replace " + path_ + ": it is " + file_type_name(st.st_mode) + ", not a directory");
      // Swap in one step; the old tree then sits under the temporary name.
      if (::renameat2(AT_FDCWD, temporary_path_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) != 0)
        throw Error("cannot replace " + path_ + ": " + std::strerror(errno));
    }
  } catch (...) {
    discard();
    throw;
  }
  // What is under the temporary name now (nothing, or the old tree) goes.
  std::error_code ec;
  std::filesystem::remove_all(temporary_path_, ec);
  pending_ = false;
  unregister_pending(slot_);
  slot_ = -1;
}

void remove_pending_temporary_files() noexcept {
  const int saved_errno = errno;  // a signal handler must leave errno as it was
  for (PendingSlot& slot : g_pending) {
    if (!slot.armed.load()) continue;
    if (slot.directory) remove_directory_tree(slot.path, 2);
    else ::unlink(slot.path);
  }
  errno = saved_errno;
}

}  // namespace qwen3vl
