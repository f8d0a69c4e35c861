// Internal: turns a small run-time count into a template argument, so tile
// routines whose accumulators must stay in registers get their row or
// vector count at compile time (a run-time bound makes the compiler branch
// and spill).
#pragma once
#include <type_traits>
#include <utility>

namespace qwen3vl::kernels {

// Calls fn(std::integral_constant<int, n>{}) for a run-time n in [1, Max]
// (nothing for other n).
template <int Max, class Fn>
inline void with_count(int n, Fn&& fn) {
  if constexpr (Max >= 1) {
    if (n == Max) fn(std::integral_constant<int, Max>{});
    else with_count<Max - 1>(n, std::forward<Fn>(fn));
  }
}

}  // namespace qwen3vl::kernels
