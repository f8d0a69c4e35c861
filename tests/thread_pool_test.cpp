// ThreadPool: chunked loops cover every item exactly once, mixed with
// run_on_all in quick succession (the decode pattern), and errors propagate.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {
namespace {

TEST(ThreadPool, ParallelChunksCoverEveryItemOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 64, 1001}) {
      for (int64_t chunk : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_chunks(n, chunk, [&](int64_t a, int64_t b) {
          EXPECT_LT(a, b);
          if (threads > 1) EXPECT_LE(b - a, chunk);
          else EXPECT_EQ(b - a, n);
          for (int64_t i = a; i < b; ++i) hits[i].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << chunk;
      }
    }
  }
}

// Thousands of back-to-back jobs of both kinds: a worker arriving late for a
// closed chunked job must neither run it nor enter the next job twice.
TEST(ThreadPool, BackToBackJobsOfBothKinds) {
  ThreadPool pool(2);
  int64_t expected = 0;
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 3000; ++round) {
    if (round % 3 == 0) {
      pool.run_on_all([&](int t, int nt) { total.fetch_add(t + 1 + nt); });
      expected += 1 + 2 + 2 + 2;
    } else {
      const int64_t n = 1 + round % 13;
      pool.parallel_chunks(n, 1 + round % 4, [&](int64_t a, int64_t b) { total.fetch_add(b - a); });
      expected += n;
    }
  }
  EXPECT_EQ(total.load(), expected);
}

TEST(ThreadPool, ParallelChunksRethrowsAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_chunks(100, 1,
                                    [](int64_t a, int64_t) {
                                      if (a == 57) throw std::runtime_error("chunk 57");
                                    }),
               std::runtime_error);
  std::atomic<int64_t> sum{0};
  pool.parallel_chunks(10, 2, [&](int64_t a, int64_t b) { sum.fetch_add(b - a); });
  EXPECT_EQ(sum.load(), 10);
}

}  // namespace
}  // namespace qwen3vl
