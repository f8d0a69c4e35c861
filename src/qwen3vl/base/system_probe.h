// Facts about this machine and process that benchmarks report.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace qwen3vl {

// (Memory bandwidth: runtime/bandwidth_probe.h.)

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();
// Current resident set size, in bytes.
size_t current_rss_bytes();
// The CPU's model name as the OS reports it (/proc/cpuinfo "model name"),
// "unknown CPU" when it does not.
std::string cpu_model_name();

}  // namespace qwen3vl
