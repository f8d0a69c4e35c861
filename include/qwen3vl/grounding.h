// Grounding answers drawn on their image. Qwen3-VL answers "where is ...?"
// with JSON boxes and points on a 0..1000 scale of the image
// ([{"bbox_2d": [x1, y1, x2, y2], "label": "cat"}, {"point_2d": [x, y]}]);
// this finds them in an answer (fenced or not, with prose around it) and draws
// them, labelled, on the original image at its full resolution.
#pragma once
#include <string>
#include <string_view>

namespace qwen3vl {

struct GroundingDrawing {
  int boxes = 0;
  int points = 0;
  int width = 0;   // of the image drawn on (after EXIF orientation)
  int height = 0;
};

// Reads the image (a path, file:// URL or data: URI), draws every box and
// point of `answer` on it and writes a PNG to `out_png`. Throws Error when the
// image cannot be read, the answer holds no (or malformed) grounding JSON, or
// the PNG cannot be written.
GroundingDrawing draw_grounding_answer(const std::string& image_source, std::string_view answer,
                                       const std::string& out_png);

}  // namespace qwen3vl
