#include "qwen3vl/runtime/bandwidth_probe.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/stream_read.h"

namespace qwen3vl {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;

// Software prefetch distances tried (bytes ahead; 0: hardware prefetch only).
// The quantized decode GEMVs prefetch about 1.7 KiB ahead; which distance
// streams fastest differs between CPUs, so each is measured.
constexpr size_t kPrefetchVariants[] = {0, 1024, 2048, 4096};

volatile uint64_t observed_sink = 0;

struct Unmap {
  size_t bytes;
  void operator()(void* p) const { ::munmap(p, bytes); }
};

// Anonymous memory, 2 MiB pages asked for (fewer TLB misses: the probe
// should not under-read for want of them).
std::unique_ptr<void, Unmap> map_buffer(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw Error("bandwidth probe: cannot map " + std::to_string(bytes >> 20) + " MiB");
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return std::unique_ptr<void, Unmap>(p, Unmap{bytes});
}

// AnonHugePages of this process, in bytes (0 when the kernel does not say).
size_t anon_huge_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  size_t kb = 0;
  while (in >> key) {
    if (key == "AnonHugePages:") {
      in >> kb;
      return kb << 10;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

}  // namespace

BandwidthProbe probe_read_bandwidth(ThreadPool& pool, const BandwidthProbeOptions& options) {
  const int threads = pool.size();
  // One slice per thread, each a whole number of 2 MiB pages.
  const size_t slice = std::max(kHugePage, options.bytes / size_t(threads) / kHugePage * kHugePage);
  const size_t bytes = slice * size_t(threads);
  const size_t huge_before = anon_huge_bytes();
  auto buffer = map_buffer(bytes);
  auto* base = static_cast<uint8_t*>(buffer.get());
  // First touch from the thread that will read the slice.
  pool.run_on_all([&](int t, int) { std::memset(base + size_t(t) * slice, t + 1, slice); });
  BandwidthProbe best;
  best.huge_pages = anon_huge_bytes() >= huge_before + bytes / 2;
  std::atomic<uint64_t> sink{0};
  for (const size_t ahead : kPrefetchVariants) {
    StreamReadOptions read;
    read.prefetch_ahead = ahead;
    for (int s = 0; s < options.samples; ++s) {
      const auto t0 = std::chrono::steady_clock::now();
      pool.run_on_all([&](int t, int) {
        uint64_t x = 0;
        for (int p = 0; p < options.passes; ++p) x ^= stream_xor(base + size_t(t) * slice, slice, read);
        sink.fetch_xor(x, std::memory_order_relaxed);
      });
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double gbps = double(bytes) * options.passes / sec / 1e9;
      if (gbps > best.gbps) best.gbps = gbps, best.prefetch_ahead = ahead;
    }
  }
  observed_sink = sink.load();  // the reads have an observable result
  const char* loads = active_isa_level() == IsaLevel::Avx512 ? "64-byte AVX-512"
                      : active_isa_level() == IsaLevel::Avx2 ? "32-byte AVX2"
                                                             : "8-byte scalar";
  best.method += std::to_string(threads) + " threads (the decode pool), each reading its own " +
                 std::to_string(slice >> 20) + " MiB slice (first touched by that thread" +
                 (best.huge_pages ? ", 2 MiB pages" : ", 4 KiB pages") + ") with " + loads + " loads, " +
                 std::to_string(options.passes) + " passes per sample, best of " + std::to_string(options.samples) +
                 " samples each with no, 1, 2 and 4 KiB software prefetch (best: " +
                 (best.prefetch_ahead ? std::to_string(best.prefetch_ahead >> 10) + " KiB" : "none") + ")";
  return best;
}

}  // namespace qwen3vl
