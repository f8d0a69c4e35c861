// Facts about this machine and process that benchmarks report.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qwen3vl {

// (Memory bandwidth: runtime/bandwidth_probe.h.)

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();
// Current resident set size, in bytes.
size_t current_rss_bytes();

}  // namespace qwen3vl
