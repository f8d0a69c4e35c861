// 3-D positions of prompts with videos against the reference's position_ids:
// a video grid (t, h, w) is t blocks of (1, h, w), one per frame pair, each
// restarting its temporal index (the time is in the timestamp text between
// them); an image before the video shifts everything after it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/rope_index.h"

using namespace qwen3vl;

namespace {

const std::string kVideoFixture = QWEN3VL_VIDEO_FIXTURE_DIR;

std::vector<int64_t> i64(const TensorView& t) {
  const int64_t* p = static_cast<const int64_t*>(t.data);
  return std::vector<int64_t>(p, p + t.numel());
}

std::vector<VisionGrid> grids_of(const SafetensorsFile& f, const char* name) {
  if (!f.has(name)) return {};
  const TensorView& t = f.get(name);
  return vision_grids_from_thw(static_cast<const int64_t*>(t.data), t.shape[0]);
}

}  // namespace

TEST(VideoRopeIndex, MatchesGoldenForAllVideoCases) {
  const RopeIndexSpec spec = RopeIndexSpec::from_config(load_model_config(kVideoFixture + "/config.json"));
  for (const char* name :
       {"vcase1_video", "vcase2_image_and_video", "vcase3_frame_list", "vcase4_video_outer_wrapper_kept"}) {
    SCOPED_TRACE(name);
    SafetensorsFile golden(kVideoFixture + "/golden/" + name + ".safetensors");
    const std::vector<int64_t> ids = i64(golden.get("input_ids"));
    std::vector<VisionGrid> videos = grids_of(golden, "video_grid_thw");
    if (videos.empty()) videos = {{2, 6, 10}};  // vcase4 stores text-side tensors only; its grid is vcase1's
    const RopeIndex r = compute_rope_index(ids, grids_of(golden, "image_grid_thw"), videos, spec);
    EXPECT_EQ(r.positions, i64(golden.get("position_ids")));
    EXPECT_EQ(r.rope_delta, i64(golden.get("rope_deltas"))[0]);
  }
}
