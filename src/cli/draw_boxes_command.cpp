// qwen3vl draw-boxes: draws the boxes and points of a grounding answer (from
// `run`, the server or anywhere else) on its image.
#include <fstream>
#include <iostream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/grounding.h"

namespace qwen3vl::cli {

namespace {

std::string read_answer(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the answer file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void report_drawing(const GroundingDrawing& d, const std::string& out) {
  std::cerr << "qwen3vl: drew " << d.boxes << (d.boxes == 1 ? " box" : " boxes") << " and " << d.points
            << (d.points == 1 ? " point" : " points") << " on the " << d.width << "x" << d.height << " image: " << out
            << "\n";
}

int draw_boxes_command(int argc, char** argv) {
  Args args("draw-boxes",
            "Draws the boxes (bbox_2d) and points (point_2d) of a grounding answer, labelled, on the original image.\n"
            "Coordinates are on Qwen3-VL's 0..1000 scale of the image; the JSON may sit in a ```json fence and among\n"
            "other text.");
  args.value("--image", "PATH", "the image the answer is about (file, file:// URL or data: URI)")
      .value("--answer", "FILE", "the model's answer text (- for stdin)")
      .value("-o,--output", "OUT.png", "where to write the drawn image (PNG)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("image") || !args.has("answer") || !args.has("output"))
    throw Error("draw-boxes needs --image, --answer and -o");
  const std::string out = args.get("output");
  report_drawing(draw_grounding_answer(args.get("image"), read_answer(args.get("answer")), out), out);
  return 0;
}

}  // namespace qwen3vl::cli
