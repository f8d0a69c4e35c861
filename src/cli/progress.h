// Progress lines on stderr, drawn only when stderr is a terminal (logs stay
// clean): a bar for work of known size (load, quantize, export) and a
// transfer line for downloads (bytes, speed, time left).
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "qwen3vl/base/human_format.h"

namespace qwen3vl::cli {

// One line redrawn in place, at most once per `interval` except for the
// final state; finish() ends it with a newline if anything was drawn.
class ProgressLine {
 public:
  ProgressLine(bool enabled, std::chrono::milliseconds interval)
      : enabled_(enabled && ::isatty(2)), interval_(interval) {}
  // Whether to draw now: enabled, and the interval has passed or `final`.
  bool due(bool final) {
    if (!enabled_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!final && now - last_ < interval_) return false;
    last_ = now;
    return true;
  }
  void draw(const std::string& text) {
    std::fprintf(stderr, "\r%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_;
  std::chrono::milliseconds interval_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// "label [#########.....]  42% 1.2 GB"
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled)
      : label_(std::move(label)), line_(enabled, std::chrono::milliseconds(100)) {}
  void update(double fraction, uint64_t bytes = 0) {
    if (!line_.due(fraction >= 1.0)) return;
    const int width = 30, filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    char percent[16];
    std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
    line_.draw(label_ + " [" + bar + "] " + percent + (bytes ? " " + format_bytes(bytes) : ""));
  }
  void finish() { line_.finish(); }

 private:
  std::string label_;
  ProgressLine line_;
};

// A download's line: file, bytes done of total, speed since the first
// update and time left.
class TransferProgress {
 public:
  explicit TransferProgress(bool enabled) : line_(enabled, std::chrono::milliseconds(200)) {}
  void update(const std::string& file, uint64_t done, uint64_t total) {
    if (!line_.due(done >= total)) return;
    const auto now = std::chrono::steady_clock::now();
    if (start_bytes_ == UINT64_MAX) start_bytes_ = done, start_ = now;
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
    const std::string name = file.size() > 28 ? "..." + file.substr(file.size() - 25) : file;
    char text[256];
    std::snprintf(text, sizeof text, "%-28s %5.1f%% %8.1f / %.1f MB  %6.1f MB/s  ETA %s   ", name.c_str(), 100 * f,
                  done / 1e6, total / 1e6, speed / 1e6, eta.c_str());
    line_.draw(text);
  }
  void finish() { line_.finish(); }

 private:
  ProgressLine line_;
  uint64_t start_bytes_ = UINT64_MAX;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace qwen3vl::cli
