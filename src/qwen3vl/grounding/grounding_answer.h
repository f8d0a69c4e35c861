// Grounding answers: Qwen3-VL names places in an image as JSON such as
//   [{"bbox_2d": [x1, y1, x2, y2], "label": "cat"}, {"point_2d": [x, y], "label": "eye"}]
// with coordinates relative to the image on a 0..1000 scale, usually inside a
// ```json fence and often followed (or preceded) by prose. This parses every
// box and point out of such an answer, tolerant of the surrounding text and of
// an answer cut off mid-list (the objects completed before the cut are kept).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

struct GroundingItem {
  enum class Kind { Box, Point };
  Kind kind = Kind::Box;
  // Box: x1, y1, x2, y2; point: x, y (coords[2..3] unused). 0..1000 scale.
  double coords[4] = {0, 0, 0, 0};
  std::string label;  // empty when the model gave none
};

// Throws Error when the answer holds no JSON, the JSON is malformed (the
// message says where), or it holds no bbox_2d / point_2d entry.
std::vector<GroundingItem> parse_grounding_answer(std::string_view answer);

// Maps a 0..1000 coordinate to pixels of an image `size` pixels wide/high.
inline double grounding_to_pixels(double relative, int size) { return relative / 1000.0 * size; }

}  // namespace qwen3vl
