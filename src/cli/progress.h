// A one-line progress bar on stderr, redrawn at most ten times a second and
// only when stderr is a terminal (logs stay clean).
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "qwen3vl/base/human_format.h"

namespace qwen3vl::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled && ::isatty(2)) {}
  void update(double fraction, uint64_t bytes = 0) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30, filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%%", label_.c_str(), bar.c_str(), static_cast<int>(fraction * 100));
    if (bytes) std::fprintf(stderr, " %s", format_bytes(bytes).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace qwen3vl::cli
