// EXIF orientation: parsing the APP1 tag and the eight transforms, and a JPEG
// written with orientation 6 decoding upright (as transformers' load_image).
#include <gtest/gtest.h>

#include <cstdio>
#include <jpeglib.h>

#include <vector>

#include "qwen3vl/image/exif_orientation.h"
#include "image_test_util.h"
#include "qwen3vl/image/image_decode.h"

using namespace qwen3vl;
using namespace image_test;

TEST(ImageExif, ParsesOrientationTag) {
  for (int o = 1; o <= 8; ++o) {
    const auto app1 = exif_with_orientation(o);
    EXPECT_EQ(parse_exif_orientation(app1.data(), app1.size()), o);
  }
  auto bad = exif_with_orientation(6);
  bad[13] = 200;  // IFD offset beyond the payload
  EXPECT_EQ(parse_exif_orientation(bad.data(), bad.size()), 1);
  EXPECT_EQ(parse_exif_orientation(bad.data(), 10), 1);
}

TEST(ImageExif, TransformsMatchPillowTranspose) {
  // 3x2 image, pixel value = 10*y + x (R channel).
  RgbImage img(3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) img.row(y)[3 * x] = static_cast<uint8_t>(10 * y + x);
  auto grid = [](const RgbImage& m) {
    std::vector<int> v;
    for (int y = 0; y < m.height; ++y)
      for (int x = 0; x < m.width; ++x) v.push_back(m.row(y)[3 * x]);
    return v;
  };
  // Input rows: [0 1 2] / [10 11 12].
  EXPECT_EQ(grid(apply_exif_orientation(img, 1)), (std::vector<int>{0, 1, 2, 10, 11, 12}));
  EXPECT_EQ(grid(apply_exif_orientation(img, 2)), (std::vector<int>{2, 1, 0, 12, 11, 10}));
  EXPECT_EQ(grid(apply_exif_orientation(img, 3)), (std::vector<int>{12, 11, 10, 2, 1, 0}));
  EXPECT_EQ(grid(apply_exif_orientation(img, 4)), (std::vector<int>{10, 11, 12, 0, 1, 2}));
  EXPECT_EQ(grid(apply_exif_orientation(img, 5)), (std::vector<int>{0, 10, 1, 11, 2, 12}));
  // 6: 90 degrees clockwise -> 2x3 with the old bottom-left at the top-left.
  EXPECT_EQ(grid(apply_exif_orientation(img, 6)), (std::vector<int>{10, 0, 11, 1, 12, 2}));
  EXPECT_EQ(grid(apply_exif_orientation(img, 7)), (std::vector<int>{12, 2, 11, 1, 10, 0}));
  // 8: 90 degrees counter-clockwise -> old top-right at the top-left.
  EXPECT_EQ(grid(apply_exif_orientation(img, 8)), (std::vector<int>{2, 12, 1, 11, 0, 10}));
}

TEST(ImageExif, JpegWithOrientation6DecodesUpright) {
  // 32x16: left half red, right half blue. Rotated 90 degrees clockwise it is
  // 16x32 with red on top.
  RgbImage img(32, 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 32; ++x) {
      uint8_t* p = img.row(y) + 3 * x;
      p[0] = x < 16 ? 255 : 0, p[1] = 0, p[2] = x < 16 ? 0 : 255;
    }
  const auto plain = encode_jpeg(img, {});
  const RgbImage a = decode_image(plain.data(), plain.size(), "plain");
  EXPECT_EQ(a.width, 32);
  const auto rotated = encode_jpeg(img, exif_with_orientation(6));
  const RgbImage b = decode_image(rotated.data(), rotated.size(), "rotated");
  ASSERT_EQ(b.width, 16);
  ASSERT_EQ(b.height, 32);
  EXPECT_GT(b.row(4)[3 * 8 + 0], 200);   // top: red
  EXPECT_LT(b.row(4)[3 * 8 + 2], 60);
  EXPECT_GT(b.row(28)[3 * 8 + 2], 200);  // bottom: blue
  EXPECT_LT(b.row(28)[3 * 8 + 0], 60);
}
