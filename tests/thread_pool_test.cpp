// ThreadPool: chunked loops cover every item exactly once, mixed with
// run_on_all in quick succession (the decode pattern), errors propagate,
// several threads may submit loops to one pool at once, nested loops run
// inline, and the thread count asked for is the one used.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
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

TEST(ThreadPool, UsesTheThreadCountAskedFor) {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    std::vector<std::atomic<int>> seen(static_cast<size_t>(threads));
    pool.run_on_all([&](int t, int nt) {
      EXPECT_EQ(nt, threads);
      seen[t].fetch_add(1);
    });
    for (int t = 0; t < threads; ++t) EXPECT_EQ(seen[t].load(), 1) << t;
  }
  EXPECT_EQ(ThreadPool(0).size(), ThreadPool::hardware_threads());
}

// Each submitter's loops must see exactly their own items, every item once,
// however the submitters interleave (before, two submitters overwrote each
// other's job: items were lost or run twice). The per-submitter sums are
// checked against the closed form, so any lost or repeated chunk shows.
TEST(ThreadPool, ConcurrentSubmittersEachGetTheirOwnLoops) {
  ThreadPool pool(2);
  constexpr int kSubmitters = 4;
  constexpr int kRounds = 200;
  std::vector<int64_t> totals(kSubmitters, 0), expected(kSubmitters, 0);
  std::vector<std::thread> submitters;
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      int64_t total = 0, want = 0;
      for (int round = 0; round < kRounds; ++round) {
        const int64_t n = 1 + (round * 7 + s) % 97;
        std::atomic<int64_t> sum{0};
        switch (round % 3) {
          case 0:
            pool.parallel_chunks(n, 1 + round % 5, [&](int64_t a, int64_t b) {
              for (int64_t i = a; i < b; ++i) sum.fetch_add(i + 1);
            });
            break;
          case 1:
            pool.parallel_for(n, 1 + round % 4, [&](int64_t a, int64_t b) {
              for (int64_t i = a; i < b; ++i) sum.fetch_add(i + 1);
            });
            break;
          default:
            pool.run_on_all([&](int t, int nt) {
              for (int64_t i = t; i < n; i += nt) sum.fetch_add(i + 1);
            });
            break;
        }
        total += sum.load();
        want += n * (n + 1) / 2;
      }
      totals[s] = total;
      expected[s] = want;
    });
  }
  for (auto& t : submitters) t.join();
  for (int s = 0; s < kSubmitters; ++s) EXPECT_EQ(totals[s], expected[s]) << "submitter " << s;
}

// A loop started from inside one of the pool's own loops runs on the calling
// thread (waiting for the pool would wait for itself) and still covers
// every item once.
TEST(ThreadPool, NestedLoopsRunInline) {
  ThreadPool pool(2);
  std::atomic<int64_t> inner_items{0};
  std::atomic<int> inner_indices{0};
  pool.parallel_for(8, 1, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) {
      const std::thread::id me = std::this_thread::get_id();
      pool.parallel_chunks(10, 3, [&](int64_t c, int64_t d) {
        EXPECT_EQ(std::this_thread::get_id(), me);
        inner_items.fetch_add(d - c);
      });
      pool.run_on_all([&](int, int nt) {
        EXPECT_EQ(std::this_thread::get_id(), me);
        EXPECT_EQ(nt, 2);
        inner_indices.fetch_add(1);
      });
    }
  });
  EXPECT_EQ(inner_items.load(), 8 * 10);
  EXPECT_EQ(inner_indices.load(), 8 * 2);
}

}  // namespace
}  // namespace qwen3vl
