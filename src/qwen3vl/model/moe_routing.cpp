#include "qwen3vl/model/moe_routing.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/elementwise.h"

namespace qwen3vl {

void route_top_k(const float* logits, int64_t n, int experts, int k, int32_t* ids, float* weights) {
  check(experts > 0 && k > 0 && k <= experts, "route_top_k: need 0 < k <= experts");
  std::vector<float> probs(static_cast<size_t>(experts));
  std::vector<int32_t> order(static_cast<size_t>(experts));
  for (int64_t t = 0; t < n; ++t) {
    std::copy(logits + t * experts, logits + (t + 1) * experts, probs.begin());
    softmax_inplace(probs.data(), experts);
    // A NaN would break the ordering the sort relies on: rank it last.
    for (float& p : probs)
      if (!(p >= 0.0f)) p = -1.0f;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
    });
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) sum += probs[order[j]];
    for (int j = 0; j < k; ++j) {
      ids[t * k + j] = order[j];
      weights[t * k + j] = probs[order[j]] / sum;
    }
  }
}

}  // namespace qwen3vl
