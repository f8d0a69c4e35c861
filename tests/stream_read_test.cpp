// The bandwidth probe's streaming kernel: every ISA level gives exactly the
// XOR of the little-endian 64-bit words (tail zero-padded), on odd sizes and
// unaligned starts, with and without software prefetch; and the probe built
// on it reports a plausible figure and how it measured it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/stream_read.h"
#include "qwen3vl/runtime/bandwidth_probe.h"
#include "qwen3vl/runtime/benchmark.h"

using namespace qwen3vl;

namespace {

// The definition, byte by byte.
uint64_t xor_of_words(const uint8_t* p, size_t bytes) {
  uint64_t x = 0;
  for (size_t i = 0; i < bytes; ++i) x ^= uint64_t(p[i]) << (8 * (i % 8));
  return x;
}

void check_level(IsaLevel level) {
  qwen3vl::testing::ScopedIsaCap cap(level);
  std::mt19937_64 rng(11);
  std::vector<uint8_t> buf(200000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset : {0, 1, 3, 8, 63}) {
    for (size_t bytes : {0, 1, 7, 8, 31, 63, 64, 65, 127, 128, 255, 256, 257, 1000, 4099, 65536 + 13, 199000}) {
      const uint8_t* p = buf.data() + offset;
      const uint64_t want = xor_of_words(p, bytes);
      for (size_t ahead : {0, 2048}) {
        StreamReadOptions o;
        o.prefetch_ahead = ahead;
        ASSERT_EQ(stream_xor(p, bytes, o), want)
            << isa_level_name(level) << " offset " << offset << " bytes " << bytes << " prefetch " << ahead;
      }
    }
  }
}

}  // namespace

TEST(StreamRead, ScalarIsTheXorOfWords) { check_level(IsaLevel::Scalar); }

TEST(StreamRead, Avx2MatchesTheDefinition) {
  if (detected_isa_level() < IsaLevel::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
  check_level(IsaLevel::Avx2);
}

TEST(StreamRead, Avx512MatchesTheDefinition) {
  if (detected_isa_level() < IsaLevel::Avx512) GTEST_SKIP() << "this CPU has no AVX-512";
  check_level(IsaLevel::Avx512);
}

TEST(BandwidthProbe, ReportsAFigureAndItsMethod) {
  ThreadPool pool(2);
  BandwidthProbeOptions o;
  o.bytes = size_t(16) << 20;  // small and quick: the figure is not judged, only its sanity
  o.passes = 1;
  o.samples = 2;
  const BandwidthProbe p = probe_read_bandwidth(pool, o);
  EXPECT_GT(p.gbps, 0.1);  // any machine reads 16 MiB faster than 100 MB/s
  EXPECT_LT(p.gbps, 1e4);
  EXPECT_NE(p.method.find("2 threads"), std::string::npos) << p.method;
  EXPECT_NE(p.method.find("8 MiB slice"), std::string::npos) << p.method;
  EXPECT_TRUE(p.prefetch_ahead == 0 || p.prefetch_ahead == 1024 || p.prefetch_ahead == 2048 ||
              p.prefetch_ahead == 4096);
}

TEST(BandwidthProbe, DecodeIsJudgedAgainstTheProbeNeverAboveIt) {
  // 2 GB of weights per token at 8 tok/s stream 16 GB/s: 80% of a 20 GB/s probe.
  Json r = decode_against_bandwidth(2e9, 8, 20);
  EXPECT_DOUBLE_EQ(r["decode_stream_gbps"].get<double>(), 16);
  EXPECT_DOUBLE_EQ(r["decode_limit_tps"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(r["decode_fraction_of_limit"].get<double>(), 0.8);
  EXPECT_FALSE(r["decode_exceeds_probe"].get<bool>());
  EXPECT_FALSE(r.contains("note"));
  // At 12 tok/s decode streams 24 GB/s: the probe under-read, and no fraction is given.
  r = decode_against_bandwidth(2e9, 12, 20);
  EXPECT_TRUE(r["decode_exceeds_probe"].get<bool>());
  EXPECT_TRUE(r["decode_fraction_of_limit"].is_null());
  EXPECT_NE(r["note"].get<std::string>().find("24.00 GB/s"), std::string::npos) << r["note"];
  EXPECT_NE(r["note"].get<std::string>().find("20.00 GB/s"), std::string::npos) << r["note"];
}
