#include "qwen3vl/model/prompt_layout.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/model/rope_index.h"

namespace qwen3vl {

std::vector<bool> PromptLayout::media_needed_from(int64_t row) const {
  std::vector<bool> needed(media.size(), false);
  for (size_t i = 0; i < media.size(); ++i) {
    const MediaPlacement& m = media[i];
    needed[i] = m.tokens > 0 && visual_rows[m.first_visual + m.tokens - 1] >= row;
  }
  return needed;
}

int64_t media_tokens(const ModelConfig& config, const MediaGrid& medium) {
  return medium.grid.merged_tokens(config.vision.spatial_merge_size);
}

PromptLayout layout_prompt(const ModelConfig& config, std::span<const int32_t> ids, std::span<const MediaGrid> media) {
  const int merge = config.vision.spatial_merge_size;
  std::vector<VisionGrid> image_grids, video_grids;
  for (size_t i = 0; i < media.size(); ++i) {
    validate_vision_grid(media[i].grid, merge, std::string(media_kind_name(media[i].kind)) + " " +
                                                   std::to_string(i + 1));
    (media[i].kind == MediaKind::Image ? image_grids : video_grids).push_back(media[i].grid);
  }

  // Counts first, for an error that says what disagrees.
  int64_t image_pads = 0, video_pads = 0, frames = 0;
  for (const int32_t id : ids) {
    image_pads += id == config.image_token_id;
    video_pads += id == config.video_token_id;
  }
  for (const VisionGrid& g : video_grids) frames += g.t;
  if (image_pads != static_cast<int64_t>(image_grids.size()))
    throw Error("the prompt has " + std::to_string(image_pads) + " <|image_pad|> tokens but " +
                std::to_string(image_grids.size()) + " images were given");
  if (video_pads != frames)
    throw Error("the prompt has " + std::to_string(video_pads) + " <|video_pad|> tokens but the " +
                std::to_string(video_grids.size()) + " videos given need " + std::to_string(frames) +
                " (one per temporal patch)");

  PromptLayout p;
  p.media.reserve(media.size());
  size_t next_medium = 0;
  int64_t frames_left = 0;  // temporal patches of the current video still to place
  for (const int32_t id : ids) {
    const bool image_pad = id == config.image_token_id, video_pad = id == config.video_token_id;
    if (!image_pad && !video_pad) {
      p.row_medium.push_back(-1);
      p.ids.push_back(id);
      continue;
    }
    const MediaKind kind = image_pad ? MediaKind::Image : MediaKind::Video;
    if (frames_left > 0 && kind == MediaKind::Image)
      throw Error("the prompt has an <|image_pad|> between the frames of video " + std::to_string(next_medium));
    if (frames_left == 0) {
      if (next_medium == media.size())
        throw Error("the prompt has more " + std::string(image_pad ? "<|image_pad|>" : "<|video_pad|>") +
                    " placeholders than the " + std::to_string(media.size()) + " media given");
      const MediaGrid& m = media[next_medium];
      if (m.kind != kind)
        throw Error("medium " + std::to_string(next_medium + 1) + " is a" +
                    (m.kind == MediaKind::Image ? "n image" : " video") + " but the prompt has " +
                    (image_pad ? "<|image_pad|>" : "<|video_pad|>") + " in its place");
      p.media.push_back({m.kind, m.grid, static_cast<int64_t>(p.visual_rows.size()), media_tokens(config, m)});
      frames_left = kind == MediaKind::Video ? m.grid.t : 1;
      ++next_medium;
    }
    // One pad: a whole image, or one temporal patch of a video.
    const VisionGrid& g = p.media.back().grid;
    const int64_t block = g.h * g.w / (merge * merge);
    for (int64_t k = 0; k < block; ++k) {
      p.visual_rows.push_back(static_cast<int32_t>(p.ids.size()));
      p.row_medium.push_back(static_cast<int32_t>(p.media.size() - 1));
      p.ids.push_back(id);
    }
    --frames_left;
  }
  if (frames_left > 0)
    throw Error("video " + std::to_string(next_medium) + " has " + std::to_string(p.media.back().grid.t) +
                " temporal patches but the prompt has fewer <|video_pad|> blocks");
  if (next_medium != media.size())
    throw Error("the prompt has placeholders for " + std::to_string(next_medium) + " media but " +
                std::to_string(media.size()) + " were given");

  const std::vector<int64_t> ids64(p.ids.begin(), p.ids.end());
  const RopeIndex rope = compute_rope_index(ids64, image_grids, video_grids, RopeIndexSpec::from_config(config));
  for (int a = 0; a < 3; ++a) p.positions[a].assign(rope.axis(a), rope.axis(a) + rope.length);
  p.rope_delta = rope.rope_delta;
  return p;
}

}  // namespace qwen3vl
