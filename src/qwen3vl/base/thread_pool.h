// A fixed pool of worker threads for data-parallel loops. The calling thread
// takes part, so a pool of N threads starts N-1 workers. Workers spin briefly
// before sleeping: decode issues hundreds of small parallel loops per token
// and a futex wake per loop would cost more than the loop itself.
//
// Any number of threads may submit loops to one pool at once (two sessions
// generating on two threads, say): the pool runs one loop at a time and the
// other submitters wait for their turn, so each loop still gets every thread
// and its results do not depend on what else is running. A loop submitted
// from inside one of this pool's own loops (a nested loop) runs on the
// calling thread alone instead of waiting for itself.
//
// There is no process-wide pool: whoever owns the work (a loaded model, a
// quantize run, a test) creates one with the thread count it was asked for
// and passes it to the kernels.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qwen3vl {

class ThreadPool {
 public:
  // n_threads <= 0 means one per online core (see hardware_threads()).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on every thread of the pool and
  // returns when all have finished. Exceptions are rethrown on the caller.
  void run_on_all(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous chunks whose sizes are multiples of `grain`
  // (except the last) and calls fn(begin, end) for each, spread over threads.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Calls fn(begin, end) for consecutive chunks of `chunk` items covering
  // [0, n); threads claim chunks one at a time, the caller included. Unlike
  // parallel_for, the caller never waits for a worker that has not started
  // yet (descheduled on a busy machine, or still waking up): it does the
  // remaining chunks itself, and a worker arriving after the loop is closed
  // skips it. Use it for loops whose chunks may run on any thread in any
  // order (decode GEMV, attention heads). A one-thread pool (or a single
  // chunk) makes one call fn(0, n).
  void parallel_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn);

  // Threads the machine runs at once (at least 1).
  static int hardware_threads();

 private:
  void worker_loop(int index);
  // True when the calling thread is running one of this pool's loops (a
  // worker, or a submitter inside its own loop).
  bool inside_own_loop() const;
  // Publishes fn as the current job and wakes the workers.
  void start_job(const std::function<void(int, int)>& fn);

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  // Held by the submitter for the whole of its loop: one job slot, many submitters.
  std::mutex submit_mutex_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  // Entry gate of the current job: (generation << 32) | workers entered,
  // plus kGateClosed once the caller stops admitting workers. Tagging with
  // the generation keeps a late worker from entering a later job by mistake.
  std::atomic<uint64_t> gate_{0};
  std::atomic<int> finished_{0};  // workers that entered and returned
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace qwen3vl
