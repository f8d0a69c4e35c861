#include "qwen3vl/base/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kDefaultMaxTextFileMiB = 256;

std::string mib(uint64_t bytes) { return std::to_string((bytes + kMiB - 1) / kMiB) + " MiB"; }

[[noreturn]] void over_limit(const std::string& what, uint64_t limit) {
  throw Error(what + " is larger than the " + mib(limit) +
              " limit for files read into memory (set QWEN3VL_MAX_FILE_MB to raise it)");
}

// Closes the descriptor on every path out of a reader.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

uint64_t file_size_or_zero(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

const char* file_type_name(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int open_regular_file(const std::string& path, uint64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error("cannot stat " + path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + " is " + file_type_name(st.st_mode) + ", not a regular file");
  }
  // Reads of regular files never block anyway; clear the flag for clarity.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

uint64_t max_text_file_bytes() {
  const char* env = std::getenv("QWEN3VL_MAX_FILE_MB");
  if (!env || !*env) return kDefaultMaxTextFileMiB * kMiB;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (*end != '\0' || errno != 0 || v == 0 || v > (uint64_t{1} << 40))
    throw Error("QWEN3VL_MAX_FILE_MB must be a positive number of MiB, got '" + std::string(env) + "'");
  return v * kMiB;
}

void check_text_size(const std::string& what, uint64_t bytes) {
  const uint64_t limit = max_text_file_bytes();
  if (bytes > limit) over_limit(what + " (" + mib(bytes) + ")", limit);
}

std::string read_text_file(const std::string& path) {
  uint64_t size = 0;
  const Descriptor file{open_regular_file(path, &size)};
  check_text_size(path, size);
  std::string text(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(file.fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;  // shrank while we read: keep what is there
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

std::string read_descriptor(int fd, const std::string& what) {
  const uint64_t limit = max_text_file_bytes();
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + what + ": " + std::strerror(errno));
    if (n == 0) return text;
    if (text.size() + static_cast<uint64_t>(n) > limit) over_limit(what, limit);
    text.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace qwen3vl
