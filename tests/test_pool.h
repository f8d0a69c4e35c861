// The thread pool the tests run kernels, models and image resizing on: two
// threads, so the parallel paths (and how they split work) are exercised
// even on a one-core machine.
#pragma once
#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl::testing {

inline ThreadPool& test_pool() {
  static ThreadPool pool(2);
  return pool;
}

}  // namespace qwen3vl::testing
