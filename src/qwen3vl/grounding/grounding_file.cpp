// The public entry point: image in, answer in, PNG out.
#include "qwen3vl/grounding.h"
#include "qwen3vl/grounding/grounding_answer.h"
#include "qwen3vl/grounding/grounding_drawing.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/png_encode.h"

namespace qwen3vl {

GroundingDrawing draw_grounding_answer(const std::string& image_source, std::string_view answer,
                                       const std::string& out_png) {
  // Parse first: a bad answer should not cost decoding a large image.
  const std::vector<GroundingItem> items = parse_grounding_answer(answer);
  const RgbImage image = load_image(image_source);
  write_png_file(draw_grounding(image, items), out_png);
  GroundingDrawing summary;
  summary.width = image.width;
  summary.height = image.height;
  for (const auto& it : items) (it.kind == GroundingItem::Kind::Box ? summary.boxes : summary.points)++;
  return summary;
}

}  // namespace qwen3vl
