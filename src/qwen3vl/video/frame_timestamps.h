// The time Qwen3-VL writes before each frame pair: the mean of the pair's
// first and last frame times, as text "<{t:.1f} seconds>".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qwen3vl {

// transformers' Qwen3VLProcessor._calculate_timestamps: the indices are
// padded to a multiple of `temporal_patch_size` by repeating the last, each
// becomes index / fps seconds (float64), and every group of
// temporal_patch_size frames gives (first + last) / 2. Throws Error for an
// empty index list or a non-positive fps or patch size.
std::vector<double> frame_pair_timestamps(const std::vector<int64_t>& indices, double fps,
                                          int temporal_patch_size);

// "<0.3 seconds>": Python's f"{t:.1f}", i.e. the double rounded correctly to
// one decimal (0.15 is stored as 0.1499... and prints 0.1; 0.65 prints 0.7).
std::string timestamp_text(double seconds);

}  // namespace qwen3vl
