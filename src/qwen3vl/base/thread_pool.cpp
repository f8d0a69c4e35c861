#include "qwen3vl/base/thread_pool.h"

#include <algorithm>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#define QWEN3VL_PAUSE() _mm_pause()
#else
#define QWEN3VL_PAUSE() ((void)0)
#endif

namespace qwen3vl {

namespace {
constexpr int kSpinIterations = 20000;
constexpr uint64_t kGateClosed = uint64_t{1} << 31;
constexpr uint64_t kGateCount = kGateClosed - 1;
// The pool whose loop the current thread is running, if any (workers: their
// own pool for life; submitters: while their loop runs).
thread_local const ThreadPool* t_running_pool = nullptr;

// Marks the calling thread as running `pool`'s loop for the scope's duration.
class RunningScope {
 public:
  explicit RunningScope(const ThreadPool* pool) : previous_(t_running_pool) { t_running_pool = pool; }
  ~RunningScope() { t_running_pool = previous_; }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  const ThreadPool* previous_;
};

}  // namespace

int ThreadPool::hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

ThreadPool::ThreadPool(int n_threads) {
  n_threads_ = n_threads > 0 ? n_threads : hardware_threads();
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

bool ThreadPool::inside_own_loop() const { return t_running_pool == this; }

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  t_running_pool = this;
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      QWEN3VL_PAUSE();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    // Enter the job of generation `seen` unless the caller has closed it (or
    // already moved on to a later one).
    uint64_t gate = gate_.load(std::memory_order_acquire);
    bool entered = false;
    while ((gate >> 32) == (seen & 0xffffffffu) && !(gate & kGateClosed)) {
      if (gate_.compare_exchange_weak(gate, gate + 1, std::memory_order_acq_rel)) {
        entered = true;
        break;
      }
    }
    if (!entered) continue;
    try {
      (*job_)(index, n_threads_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::start_job(const std::function<void(int, int)>& fn) {
  job_ = &fn;
  error_ = nullptr;
  finished_.store(0, std::memory_order_relaxed);
  const uint64_t next = generation_.load(std::memory_order_relaxed) + 1;
  gate_.store((next & 0xffffffffu) << 32, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.store(next, std::memory_order_release);
  }
  wake_.notify_all();
}

void ThreadPool::run_on_all(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  if (inside_own_loop()) {
    // Nested: every index still runs, one after another on this thread.
    for (int t = 0; t < n_threads_; ++t) fn(t, n_threads_);
    return;
  }
  std::lock_guard<std::mutex> turn(submit_mutex_);
  RunningScope running(this);
  start_job(fn);
  std::exception_ptr own_error;
  try {
    fn(0, n_threads_);
  } catch (...) {
    own_error = std::current_exception();
  }
  // Every thread must run its index: wait for all workers to enter and return.
  while (finished_.load(std::memory_order_acquire) != n_threads_ - 1) QWEN3VL_PAUSE();
  job_ = nullptr;
  if (own_error) std::rethrow_exception(own_error);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t blocks = (n + grain - 1) / grain;
  if (n_threads_ == 1 || blocks == 1 || inside_own_loop()) {
    fn(0, n);
    return;
  }
  run_on_all([&](int t, int nt) {
    const int64_t b0 = blocks * t / nt;
    const int64_t b1 = blocks * (t + 1) / nt;
    if (b0 < b1) fn(b0 * grain, std::min(n, b1 * grain));
  });
}

void ThreadPool::parallel_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  const int64_t chunks = (n + chunk - 1) / chunk;
  if (n_threads_ == 1 || chunks == 1 || inside_own_loop()) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> turn(submit_mutex_);
  RunningScope running(this);
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  const std::function<void(int, int)> claim = [&](int, int) {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) return;
      try {
        fn(c * chunk, std::min(n, (c + 1) * chunk));
      } catch (...) {
        failed.store(true);
        throw;
      }
    }
  };
  start_job(claim);
  std::exception_ptr own_error;
  try {
    claim(0, n_threads_);
  } catch (...) {
    own_error = std::current_exception();
  }
  // All chunks are claimed: admit no more workers, wait for those inside.
  const uint64_t entered = gate_.fetch_or(kGateClosed, std::memory_order_acq_rel) & kGateCount;
  while (static_cast<uint64_t>(finished_.load(std::memory_order_acquire)) != entered) QWEN3VL_PAUSE();
  job_ = nullptr;
  if (own_error) std::rethrow_exception(own_error);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace qwen3vl
