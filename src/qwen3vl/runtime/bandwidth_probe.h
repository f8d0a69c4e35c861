// How fast this machine streams memory into the cores, measured the way
// STREAM-style tools do, so decode can be judged against it: every thread of
// the pool the model decodes on reads its own large contiguous slice (first
// touched by that thread, so its pages sit where that thread reads them)
// with the widest loads the kernels use, several passes per timed sample,
// best of several samples, for several software prefetch distances.
#pragma once
#include <cstddef>
#include <string>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

struct BandwidthProbeOptions {
  size_t bytes = size_t(1) << 30;  // the whole buffer, far larger than the caches
  int passes = 3;                  // reads of every slice per timed sample
  int samples = 5;                 // best of, per prefetch distance
};

struct BandwidthProbe {
  double gbps = 0;            // the best sample, in 1e9 bytes per second
  size_t prefetch_ahead = 0;  // bytes of software prefetch in the best variant (0: hardware only)
  bool huge_pages = false;    // 2 MiB pages were granted for the buffer
  std::string method;         // one line saying how it was measured
};

BandwidthProbe probe_read_bandwidth(ThreadPool& pool, const BandwidthProbeOptions& options = {});

}  // namespace qwen3vl
