#include "qwen3vl/tensor/vision_grid.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl {

void validate_vision_grid(const VisionGrid& g, int merge_size, const std::string& what) {
  const auto shape = "(t=" + std::to_string(g.t) + ", h=" + std::to_string(g.h) +
                     ", w=" + std::to_string(g.w) + ")";
  check(merge_size >= 1, what + ": merge size must be positive");
  check(g.t >= 1 && g.h >= 1 && g.w >= 1, what + ": grid " + shape + " must be positive");
  check(g.h % merge_size == 0 && g.w % merge_size == 0,
        what + ": grid " + shape + " rows and columns must be multiples of the merge size " +
            std::to_string(merge_size));
}

std::vector<VisionGrid> vision_grids_from_thw(const int64_t* thw, int64_t n) {
  std::vector<VisionGrid> grids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) grids[i] = {thw[3 * i], thw[3 * i + 1], thw[3 * i + 2]};
  return grids;
}

}  // namespace qwen3vl
