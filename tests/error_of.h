// The message of the qwen3vl::Error a call throws, so tests can check that
// bad input is reported by name ("(no error)" when nothing was thrown).
#pragma once
#include <functional>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace qwen3vl::testing
