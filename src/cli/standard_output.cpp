#include "standard_output.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl::cli {

namespace {

int g_first_error = 0;  // errno of the first failed write, 0 while all went well

[[noreturn]] void die_of_broken_pipe() {
  std::signal(SIGPIPE, SIG_DFL);
  std::raise(SIGPIPE);
  std::_Exit(128 + SIGPIPE);  // only if SIGPIPE is blocked
}

}  // namespace

bool write_standard_output(std::string_view text) {
  if (g_first_error) return false;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    g_first_error = errno ? errno : EIO;
    if (g_first_error == EPIPE) die_of_broken_pipe();
    return false;
  }
  return true;
}

void finish_standard_output() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    if (!g_first_error) g_first_error = errno ? errno : EIO;
  }
  if (!g_first_error) return;
  if (g_first_error == EPIPE) die_of_broken_pipe();
  throw Error(std::string("cannot write to standard output: ") + std::strerror(g_first_error));
}

}  // namespace qwen3vl::cli
