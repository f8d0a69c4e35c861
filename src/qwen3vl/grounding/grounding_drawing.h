// Draws grounding boxes and points, labelled, onto an image at its full
// resolution (cairo: anti-aliased strokes and real font rendering).
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/grounding/grounding_answer.h"
#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

struct GroundingStyle {
  double line_width = 0;  // 0: scaled to the image (about 0.4% of its shorter side, at least 2 px)
  bool labels = true;
};

// The colour an item is drawn in: one per distinct label (index into a fixed
// palette in the order labels first appear), so equal labels share a colour.
struct Rgb8 {
  uint8_t r, g, b;
};
std::vector<Rgb8> grounding_colours(const std::vector<GroundingItem>& items);

// Returns a copy of `image` with every item drawn on it; coordinates map from
// 0..1000 to the image's width and height.
RgbImage draw_grounding(const RgbImage& image, const std::vector<GroundingItem>& items,
                        const GroundingStyle& style = {});

}  // namespace qwen3vl
