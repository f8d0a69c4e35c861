// Facts about this machine and process that benchmarks report.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qwen3vl {

class ThreadPool;

// Measured read bandwidth in GB/s: every thread of `pool` streams its share
// of a `bytes` buffer (far larger than the caches), best of `repeats`.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t bytes = size_t(1) << 30, int repeats = 3);

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();
// Current resident set size, in bytes.
size_t current_rss_bytes();

}  // namespace qwen3vl
