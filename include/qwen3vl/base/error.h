// One exception type for everything a user can get wrong (files, configs,
// images, prompts). The message names the thing at fault; callers at the
// edges (CLI, server) print it and carry on.
#pragma once
#include <stdexcept>
#include <string>

namespace qwen3vl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(message) when `condition` is false.
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace qwen3vl
