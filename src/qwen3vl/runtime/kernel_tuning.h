// Chooses, per machine, the kernels whose speed order the instruction sets
// alone do not tell (kernels/kernel_choices.h) by timing the candidates on a
// small problem of the shape they will run (a few milliseconds), once per CPU
// model: the result is kept in qwen3vl_cache_dir()/kernel-choices.json under
// the CPU's model name, ISA level and thread count, and read back by later
// loads. Only candidates this CPU can run are timed.
#pragma once
#include <string>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/kernel_choices.h"

namespace qwen3vl {

struct KernelTuning {
  KernelChoices choices;
  std::string key;     // what the choice is cached under: CPU model | ISA level | threads
  std::string origin;  // "measured", "cached" or "only one candidate on this CPU"
  // Best time of each attention candidate on the probe shape (0: not timed).
  double attention_f32_ms = 0.0, attention_bf16_ms = 0.0;

  // One line for --verbose, e.g. "quantized vision attention: bf16 products
  // (f32 2.10 ms, bf16 1.05 ms on the probe; cached for AMD EPYC | avx512 | 2 threads)".
  std::string summary() const;
};

// Reads the choice for this machine from `cache_dir`, or measures it on
// `pool` and stores it there (best effort: an unwritable or corrupt cache is
// ignored and the measurement used). Does not apply it: see set_kernel_choices.
KernelTuning tune_kernels(ThreadPool& pool, const std::string& cache_dir);

// The measurement alone (no cache).
KernelTuning measure_kernels(ThreadPool& pool);

}  // namespace qwen3vl
