// The size of one image or video in vision patches, as the preprocessors
// report it in image_grid_thw / video_grid_thw: t temporal patches (pairs of
// frames), h rows and w columns of 16x16 patches. The one grid type of the
// engine: the image and video preprocessors produce it, the vision encoder,
// the rope index and the placeholder expansion consume it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qwen3vl {

struct VisionGrid {
  int64_t t = 1;  // temporal patches (1 for a still image: its 2 frames form one patch)
  int64_t h = 0;  // patch rows
  int64_t w = 0;  // patch columns

  int64_t patches() const { return t * h * w; }
  // Tokens the grid becomes after the merge_size x merge_size patch merger.
  int64_t merged_tokens(int merge_size) const { return patches() / (merge_size * merge_size); }
  bool operator==(const VisionGrid&) const = default;
};

// Throws Error (naming `what`, e.g. "image 2") unless t >= 1 and h, w are
// positive multiples of merge_size.
void validate_vision_grid(const VisionGrid& g, int merge_size, const std::string& what);

// Reads an [n, 3] int64 grid_thw array (row-major).
std::vector<VisionGrid> vision_grids_from_thw(const int64_t* thw, int64_t n);

}  // namespace qwen3vl
