// smart_resize rules and the Pillow bicubic resize's invariants, with
// expectations derived by hand from the processor's formulas.
#include <gtest/gtest.h>

#include <random>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/bicubic_resize.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/image/smart_resize.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {
constexpr int64_t kMin = 65536, kMax = 16777216;  // fixture preprocessor_config size{}
}

TEST(ImageSmartResize, RoundsHalfToEvenLikePython) {
  // 300/32 = 9.375 -> 9 -> 288; 400/32 = 12.5 -> 12 (even), not 13 -> 384.
  EXPECT_EQ(smart_resize(300, 400, 32, kMin, kMax), (ImageSize{288, 384}));
  // 464/32 = 14.5 -> 14 -> 448; 480/32 = 15 exactly -> 480.
  EXPECT_EQ(smart_resize(464, 480, 32, kMin, kMax), (ImageSize{448, 480}));
  // 208/32 = 6.5 -> 6 (even) -> 192; 1392/32 = 43.5 -> 44 (even) -> 1408.
  EXPECT_EQ(smart_resize(208, 1392, 32, kMin, kMax), (ImageSize{192, 1408}));
  // The goldens: 520x240 -> 512x256, 360x640 -> 352x640.
  EXPECT_EQ(smart_resize(520, 240, 32, kMin, kMax), (ImageSize{512, 256}));
  EXPECT_EQ(smart_resize(360, 640, 32, kMin, kMax), (ImageSize{352, 640}));
}

TEST(ImageSmartResize, UpscalesTinyImagesToMinPixels) {
  // 10x10: round(0.3125) = 0 -> 0 pixels < 65536; beta = sqrt(65536/100) = 25.6,
  // ceil(10*25.6/32) = 8 -> 256x256 (= 65536, exactly the minimum).
  EXPECT_EQ(smart_resize(10, 10, 32, kMin, kMax), (ImageSize{256, 256}));
  // min 4096: beta = sqrt(40.96) = 6.4, ceil(64/32) = 2 -> 64x64.
  EXPECT_EQ(smart_resize(10, 10, 32, 4096, kMax), (ImageSize{64, 64}));
}

TEST(ImageSmartResize, DownscalesHugeImagesToMaxPixels) {
  // 6000x8000 rounds to 6016x8000 = 48.1M > 16.78M; beta = sqrt(48e6/16777216)
  // = 1.69144; floor(6000/beta/32) = floor(110.85) = 110 -> 3520,
  // floor(8000/beta/32) = floor(147.80) = 147 -> 4704.
  EXPECT_EQ(smart_resize(6000, 8000, 32, kMin, kMax), (ImageSize{3520, 4704}));
  // 3000x4000 with max 1024^2: beta = sqrt(12e6/1048576) = 3.38291;
  // floor(27.71) = 27 -> 864, floor(36.95) = 36 -> 1152; 995328 <= 1048576.
  const ImageSize s = smart_resize(3000, 4000, 32, kMin, 1024 * 1024);
  EXPECT_EQ(s, (ImageSize{864, 1152}));
  EXPECT_LE(int64_t(s.height) * s.width, 1024 * 1024);
}

TEST(ImageSmartResize, RefusesAspectRatioOver200) {
  EXPECT_THROW(smart_resize(1, 201, 32, kMin, kMax), Error);
  EXPECT_THROW(smart_resize(4020, 20, 32, kMin, kMax), Error);
  // Exactly 200 is allowed: 1x200 -> beta = sqrt(65536/200) = 18.10;
  // ceil(18.10/32) = 1 -> 32, ceil(3620.4/32) = 114 -> 3648.
  EXPECT_EQ(smart_resize(1, 200, 32, kMin, kMax), (ImageSize{32, 3648}));
  EXPECT_THROW(smart_resize(0, 10, 32, kMin, kMax), Error);
}

TEST(ImageSmartResize, TokenLimitsOverrideConfigBounds) {
  PreprocessorConfig cfg;
  cfg.patch_size = 16;
  cfg.merge_size = 2;
  cfg.min_pixels = kMin;
  cfg.max_pixels = kMax;
  PixelBounds b = resolve_pixel_bounds(cfg, {});
  EXPECT_EQ(b.min_pixels, kMin);
  EXPECT_EQ(b.max_pixels, kMax);
  b = resolve_pixel_bounds(cfg, ImageSizeLimits{4, 1024});  // one token = 32*32 pixels
  EXPECT_EQ(b.min_pixels, 4 * 1024);
  EXPECT_EQ(b.max_pixels, 1024 * 1024);
  // Only max given, below the config min: min follows it down.
  b = resolve_pixel_bounds(cfg, ImageSizeLimits{0, 16});
  EXPECT_EQ(b.min_pixels, 16 * 1024);
  EXPECT_EQ(b.max_pixels, 16 * 1024);
  EXPECT_THROW(resolve_pixel_bounds(cfg, ImageSizeLimits{10, 5}), Error);
  EXPECT_THROW(resolve_pixel_bounds(cfg, ImageSizeLimits{-1, 0}), Error);
  // 3000x4000 with at most 1024 tokens -> the 864x1152 case above = 972 tokens.
  const ImageSize s = preprocessed_size(3000, 4000, cfg, ImageSizeLimits{0, 1024});
  EXPECT_EQ(s, (ImageSize{864, 1152}));
}

TEST(ImageBicubic, ConstantImageStaysConstant) {
  // Normalised weights sum to 1 (up to fixed-point rounding of ±1 per tap), so
  // a flat image stays flat through up- and downscaling.
  RgbImage img(37, 23);
  for (size_t i = 0; i < img.pixels.size(); i += 3) img.pixels[i] = 200, img.pixels[i + 1] = 17, img.pixels[i + 2] = 0;
  for (auto [w, h] : {std::pair{64, 64}, std::pair{5, 3}, std::pair{37, 90}, std::pair{100, 23}}) {
    const RgbImage out = resize_bicubic(img, w, h, qwen3vl::testing::test_pool());
    ASSERT_EQ(out.width, w);
    ASSERT_EQ(out.height, h);
    for (size_t i = 0; i < out.pixels.size(); i += 3) {
      ASSERT_EQ(out.pixels[i], 200);
      ASSERT_EQ(out.pixels[i + 1], 17);
      ASSERT_EQ(out.pixels[i + 2], 0);
    }
  }
}

TEST(ImageBicubic, SameSizeIsCopyAndOneAxisOnly) {
  std::mt19937 rng(7);
  RgbImage img(19, 11);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  EXPECT_EQ(resize_bicubic(img, 19, 11, qwen3vl::testing::test_pool()).pixels, img.pixels);
  // Changing only the width leaves every column filter purely horizontal:
  // each output row depends on the same input row only.
  const RgbImage wide = resize_bicubic(img, 40, 11, qwen3vl::testing::test_pool());
  RgbImage one_row(19, 1);
  std::copy(img.row(5), img.row(5) + 19 * 3, one_row.pixels.begin());
  const RgbImage wide_row = resize_bicubic(one_row, 40, 1, qwen3vl::testing::test_pool());
  EXPECT_TRUE(std::equal(wide_row.pixels.begin(), wide_row.pixels.end(), wide.row(5)));
  EXPECT_THROW(resize_bicubic(img, 0, 5, qwen3vl::testing::test_pool()), Error);
}

TEST(ImageBicubic, UpscaleByTwoMatchesHandComputedTaps) {
  // 1-D upscale 2 -> 4 of values (0, 255); source pixel centres at 0.5, 1.5.
  // Cubic a = -0.5: k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = -0.0703125.
  // out0: centre 0.25, weights (k(.25), k(1.25)) / 0.796875 -> pixel-1 weight
  //       -0.0882 -> 255 * w < 0 -> clamps to 0.
  // out1: centre 0.75, weights (k(.25), k(.75)) / 1.09375 -> w1 = 0.2071428;
  //       fixed point round(w1 * 2^22) = 868818; (2^21 + 255 * 868818) >> 22 = 53.
  // out2: mirror of out1: w1 = 0.7928571 -> 3325486 -> 202.
  // out3: mirror of out0: w1 = 1.0882 -> overshoots 255 -> clamps to 255.
  RgbImage img(2, 1);
  img.pixels = {0, 0, 0, 255, 255, 255};
  const RgbImage out = resize_bicubic(img, 4, 1, qwen3vl::testing::test_pool());
  const uint8_t expected[4] = {0, 53, 202, 255};
  for (int x = 0; x < 4; ++x)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.pixels[3 * x + c], expected[x]) << "x=" << x;
}
