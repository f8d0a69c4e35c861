// Grounding answers: parsing boxes and points out of model text, and drawing
// them on the image at full resolution (pixels on and off the edges).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "cli_test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/grounding.h"
#include "qwen3vl/grounding/grounding_answer.h"
#include "qwen3vl/grounding/grounding_drawing.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/png_encode.h"

using namespace qwen3vl;

namespace {

std::string error_of(std::string_view answer) {
  try {
    parse_grounding_answer(answer);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

RgbImage grey_image(int w, int h, uint8_t v = 128) {
  RgbImage img(w, h);
  std::fill(img.pixels.begin(), img.pixels.end(), v);
  return img;
}

std::array<int, 3> pixel(const RgbImage& img, int x, int y) {
  const uint8_t* p = img.row(y) + 3 * x;
  return {p[0], p[1], p[2]};
}

const std::array<int, 3> kGrey = {128, 128, 128};

std::array<int, 3> colour_of(const std::vector<GroundingItem>& items, size_t i) {
  const Rgb8 c = grounding_colours(items)[i];
  return {c.r, c.g, c.b};
}

}  // namespace

TEST(GroundingAnswer, FencedListWithProseAround) {
  const auto items = parse_grounding_answer(
      "Here are the animals:\n```json\n[\n  {\"bbox_2d\": [10, 20, 300, 400], \"label\": \"cat\"},\n"
      "  {\"point_2d\": [500, 600], \"label\": \"dog's nose\"}\n]\n```\nBoth are sitting [on a mat].");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, GroundingItem::Kind::Box);
  EXPECT_EQ(items[0].label, "cat");
  EXPECT_DOUBLE_EQ(items[0].coords[0], 10);
  EXPECT_DOUBLE_EQ(items[0].coords[3], 400);
  EXPECT_EQ(items[1].kind, GroundingItem::Kind::Point);
  EXPECT_EQ(items[1].label, "dog's nose");
  EXPECT_DOUBLE_EQ(items[1].coords[1], 600);
}

TEST(GroundingAnswer, BareObjectsAndTrailingText) {
  const auto items = parse_grounding_answer(
      "{\"bbox_2d\": [1.5, 2, 3, 4]} and also {\"bbox_2d\": [5, 6, 7, 8], \"label\": \"b\"} — done.");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_DOUBLE_EQ(items[0].coords[0], 1.5);
  EXPECT_EQ(items[0].label, "");
  EXPECT_EQ(items[1].label, "b");
}

TEST(GroundingAnswer, ListCutOffMidwayKeepsCompleteObjects) {
  const auto items = parse_grounding_answer(
      "```json\n[{\"bbox_2d\": [1, 2, 3, 4], \"label\": \"a\"}, {\"bbox_2d\": [5, 6, 7, 8], \"label\": \"b\"}, "
      "{\"bbox_2d\": [9, 10");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].label, "b");
}

TEST(GroundingAnswer, BadAnswersAreReportedClearly) {
  EXPECT_NE(error_of("I see a cat.").find("holds no JSON"), std::string::npos);
  EXPECT_NE(error_of("[{\"bbox_2d\": [1, 2, 3, 4],, }]").find("malformed"), std::string::npos);
  EXPECT_NE(error_of("[{\"label\": \"cat\"}]").find("no bbox_2d or point_2d"), std::string::npos);
  EXPECT_NE(error_of("[{\"bbox_2d\": [1, 2, 3]}]").find("list of 4 numbers"), std::string::npos);
  EXPECT_NE(error_of("[{\"point_2d\": [\"a\", 2]}]").find("list of 2 numbers"), std::string::npos);
  EXPECT_NE(error_of("{\"bbox_2d\": [1, 2, 3, 4]").find("cut off"), std::string::npos);
}

TEST(GroundingDrawing, BoxEdgesLandOnMappedPixels) {
  // 400x300 image: x scale 0.4, y scale 0.3. Box (100,200)-(500,600) -> (40,60)-(200,180).
  const RgbImage img = grey_image(400, 300);
  std::vector<GroundingItem> items(1);
  items[0].coords[0] = 100, items[0].coords[1] = 200, items[0].coords[2] = 500, items[0].coords[3] = 600;
  GroundingStyle style;
  style.labels = false;
  const RgbImage out = draw_grounding(img, items, style);
  ASSERT_EQ(out.width, 400);
  ASSERT_EQ(out.height, 300);
  const auto c = colour_of(items, 0);
  // A 2-px stroke centred on each edge covers the pixels either side of it.
  for (int y : {80, 120, 170}) {
    EXPECT_EQ(pixel(out, 39, y), c) << y;
    EXPECT_EQ(pixel(out, 40, y), c) << y;
    EXPECT_EQ(pixel(out, 199, y), c) << y;
    EXPECT_EQ(pixel(out, 200, y), c) << y;
    EXPECT_EQ(pixel(out, 37, y), kGrey) << y;   // outside, off the stroke
    EXPECT_EQ(pixel(out, 42, y), kGrey) << y;   // inside, off the stroke
    EXPECT_EQ(pixel(out, 202, y), kGrey) << y;
  }
  for (int x : {60, 120, 190}) {
    EXPECT_EQ(pixel(out, x, 59), c) << x;
    EXPECT_EQ(pixel(out, x, 60), c) << x;
    EXPECT_EQ(pixel(out, x, 179), c) << x;
    EXPECT_EQ(pixel(out, x, 180), c) << x;
    EXPECT_EQ(pixel(out, x, 57), kGrey) << x;
    EXPECT_EQ(pixel(out, x, 62), kGrey) << x;
    EXPECT_EQ(pixel(out, x, 182), kGrey) << x;
  }
  EXPECT_EQ(pixel(out, 120, 120), kGrey);  // the middle is untouched
  EXPECT_EQ(pixel(out, 5, 5), kGrey);
}

TEST(GroundingDrawing, PointsLabelsAndColoursPerLabel) {
  const RgbImage img = grey_image(1000, 500);
  auto items = parse_grounding_answer(
      "[{\"point_2d\": [250, 500], \"label\": \"a\"}, {\"bbox_2d\": [600, 100, 900, 900], \"label\": \"b\"},"
      " {\"bbox_2d\": [50, 50, 100, 100], \"label\": \"a\"}]");
  const auto colours = grounding_colours(items);
  EXPECT_EQ(colours[0].r, colours[2].r);  // same label, same colour
  EXPECT_NE(std::tie(colours[0].r, colours[0].g, colours[0].b), std::tie(colours[1].r, colours[1].g, colours[1].b));
  const RgbImage out = draw_grounding(img, items);
  EXPECT_EQ(pixel(out, 250, 250), colour_of(items, 0));  // the point (250/1000*1000, 500/1000*500)
  EXPECT_EQ(pixel(out, 600, 300), colour_of(items, 1));  // left edge of box b at x = 600
  // The label tag of box b sits above its top-left corner (y = 50): some pixel there is the tag colour.
  int tag = 0;
  for (int y = 20; y < 50; ++y)
    for (int x = 600; x < 640; ++x) tag += pixel(out, x, y) == colour_of(items, 1);
  EXPECT_GT(tag, 100);
  EXPECT_EQ(pixel(out, 800, 300), kGrey);
}

TEST(GroundingDrawing, CommandLineDrawsOnTheImageFile) {
  const std::string dir = ::testing::TempDir();
  const std::string image = dir + "/grounding_in.png", answer = dir + "/grounding_answer.txt",
                    out = dir + "/grounding_out.png", bad = dir + "/grounding_bad.txt";
  write_png_file(grey_image(200, 100), image);
  std::ofstream(answer) << "```json\n[{\"bbox_2d\": [100, 100, 500, 500], \"label\": \"thing\"}]\n```\n";
  std::ofstream(bad) << "```json\n[{\"bbox_2d\": [100, 100, 500 500]}]\n```\n";
  const CliResult r = run_cli("draw-boxes --image " + image + " --answer " + answer + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 box and 0 points on the 200x100 image"), std::string::npos) << r.err;
  const RgbImage drawn = load_image(out);
  ASSERT_EQ(drawn.width, 200);
  EXPECT_EQ(pixel(drawn, 20, 30), colour_of(parse_grounding_answer(slurp(answer)), 0));  // left edge x = 20
  EXPECT_EQ(pixel(drawn, 60, 30), kGrey);
  const CliResult e = run_cli("draw-boxes --image " + image + " --answer " + bad + " -o " + dir + "/never.png");
  EXPECT_NE(e.exit_code, 0);
  EXPECT_NE(e.err.find("malformed"), std::string::npos) << e.err;
  EXPECT_NE(::access((dir + "/never.png").c_str(), F_OK), 0);
}
