#include "qwen3vl/video/frame_timestamps.h"

#include <cstdio>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

std::vector<double> frame_pair_timestamps(const std::vector<int64_t>& indices, double fps,
                                          int temporal_patch_size) {
  check(!indices.empty(), "timestamps: no frames");
  check(fps > 0, "timestamps: the frame rate must be positive");
  check(temporal_patch_size >= 1, "timestamps: the temporal patch size must be positive");
  std::vector<int64_t> padded = indices;
  while (padded.size() % temporal_patch_size != 0) padded.push_back(padded.back());
  std::vector<double> out;
  for (size_t i = 0; i < padded.size(); i += temporal_patch_size) {
    const double first = static_cast<double>(padded[i]) / fps;
    const double last = static_cast<double>(padded[i + temporal_patch_size - 1]) / fps;
    out.push_back((first + last) / 2);
  }
  return out;
}

std::string timestamp_text(double seconds) {
  // glibc's printf rounds the exact binary value correctly, as CPython does.
  char buf[64];
  std::snprintf(buf, sizeof buf, "<%.1f seconds>", seconds);
  return buf;
}

}  // namespace qwen3vl
