// Small helpers several tests share: a fresh scratch directory and the
// message of the Error a call throws.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "qwen3vl/base/error.h"

// An empty directory under the test temp dir, named `name` and this process
// (ctest runs tests in parallel processes, other checkouts share /tmp).
inline std::string fresh_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The what() of the qwen3vl::Error `f` throws, "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const qwen3vl::Error& e) {
    return e.what();
  }
  return "";
}
