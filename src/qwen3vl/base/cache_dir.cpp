#include "qwen3vl/base/cache_dir.h"

#include <cstdlib>

namespace qwen3vl {

std::string qwen3vl_cache_dir() {
  if (const char* c = std::getenv("QWEN3VL_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/qwen3vl";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/qwen3vl";
  return "/tmp/qwen3vl-cache";
}

}  // namespace qwen3vl
