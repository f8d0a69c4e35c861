// A one-line progress bar on stderr, redrawn at most ten times a second and
// only when stderr is a terminal (logs stay clean).
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

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
    if (bytes) std::fprintf(stderr, " %.2f GB", double(bytes) / 1e9);
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

namespace qwen3vl::cli {

// A download's progress line on stderr (terminals only): file, bytes done of
// total, speed over the last seconds and time left.
class TransferProgress {
 public:
  explicit TransferProgress(bool enabled) : enabled_(enabled && ::isatty(2)) {}
  void update(const std::string& file, uint64_t done, uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    if (start_bytes_ == UINT64_MAX) start_bytes_ = done, start_ = now;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double speed = secs > 0.5 ? (done - start_bytes_) / secs : 0;
    const double f = total ? double(done) / double(total) : 1.0;
    std::string eta = "--:--";
    if (speed > 0 && total > done) {
      const long s = long((total - done) / speed);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
      eta = buf;
    }
    std::string name = file.size() > 28 ? "..." + file.substr(file.size() - 25) : file;
    std::fprintf(stderr, "\r%-28s %5.1f%% %8.1f / %.1f MB  %6.1f MB/s  ETA %s   ", name.c_str(), 100 * f, done / 1e6,
                 total / 1e6, speed / 1e6, eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  uint64_t start_bytes_ = UINT64_MAX;
  std::chrono::steady_clock::time_point start_{}, last_{};
};

}  // namespace qwen3vl::cli
