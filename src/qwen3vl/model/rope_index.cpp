#include "qwen3vl/model/rope_index.h"

#include <algorithm>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

RopeIndexSpec RopeIndexSpec::from_config(const ModelConfig& c) {
  RopeIndexSpec s;
  s.image_token_id = c.image_token_id;
  s.video_token_id = c.video_token_id;
  s.merge_size = c.vision.spatial_merge_size;
  return s;
}

RopeIndex compute_rope_index(const std::vector<int64_t>& input_ids,
                             const std::vector<VisionGrid>& image_grids,
                             const std::vector<VisionGrid>& video_grids, const RopeIndexSpec& spec) {
  const int m = spec.merge_size;
  for (size_t i = 0; i < image_grids.size(); ++i)
    validate_vision_grid(image_grids[i], m, "image " + std::to_string(i));
  // Videos carry their time as timestamp text between frames, so each frame
  // is a separate block of pad tokens with a single temporal index.
  std::vector<VisionGrid> frames;
  for (size_t i = 0; i < video_grids.size(); ++i) {
    validate_vision_grid(video_grids[i], m, "video " + std::to_string(i));
    for (int64_t f = 0; f < video_grids[i].t; ++f) frames.push_back({1, video_grids[i].h, video_grids[i].w});
  }

  RopeIndex r;
  r.length = static_cast<int64_t>(input_ids.size());
  r.positions.assign(static_cast<size_t>(3 * r.length), 0);
  int64_t* pt = r.positions.data();
  int64_t* ph = pt + r.length;
  int64_t* pw = ph + r.length;

  size_t next_image = 0, next_frame = 0;
  int64_t next_pos = 0;  // one past the largest position assigned so far
  int64_t i = 0;
  while (i < r.length) {
    const int64_t id = input_ids[i];
    const bool is_image = id == spec.image_token_id;
    if (!is_image && id != spec.video_token_id) {
      pt[i] = ph[i] = pw[i] = next_pos++;
      ++i;
      continue;
    }
    const char* kind = is_image ? "image" : "video frame";
    const std::vector<VisionGrid>& grids = is_image ? image_grids : frames;
    size_t& next = is_image ? next_image : next_frame;
    check(next < grids.size(),
          std::string("rope index: the prompt has more ") + kind + " token blocks than the " +
              std::to_string(grids.size()) + " " + kind + " grid(s) given");
    const VisionGrid& g = grids[next];
    const int64_t gt = g.t, gh = g.h / m, gw = g.w / m;
    // A block is exactly as long as its grid says; two blocks may touch.
    int64_t run = 0;
    while (run < gt * gh * gw && i + run < r.length && input_ids[i + run] == id) ++run;
    check(run == gt * gh * gw,
          std::string("rope index: ") + kind + " " + std::to_string(next) + " has " +
              std::to_string(run) + " pad tokens at position " + std::to_string(i) + " but its grid (" +
              std::to_string(g.t) + ", " + std::to_string(g.h) + ", " + std::to_string(g.w) +
              ") needs " + std::to_string(gt * gh * gw));
    ++next;
    const int64_t start = next_pos;
    int64_t largest = start;
    for (int64_t f = 0; f < gt; ++f)
      for (int64_t y = 0; y < gh; ++y)
        for (int64_t x = 0; x < gw; ++x, ++i) {
          pt[i] = start + f;
          ph[i] = start + y;
          pw[i] = start + x;
          largest = std::max({largest, pt[i], ph[i], pw[i]});
        }
    next_pos = largest + 1;
  }
  check(next_image == image_grids.size(),
        "rope index: " + std::to_string(image_grids.size()) + " image grid(s) given but the prompt has " +
            std::to_string(next_image) + " image token block(s)");
  check(next_frame == frames.size(),
        "rope index: " + std::to_string(frames.size()) + " video frame grid(s) given but the prompt has " +
            std::to_string(next_frame) + " video token block(s)");
  r.rope_delta = next_pos - r.length;
  return r;
}

}  // namespace qwen3vl
