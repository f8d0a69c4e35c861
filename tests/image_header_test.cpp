// Class 3 of the hostile-input issue, the image side: every format's
// dimensions come from its header alone, exactly as its decoder would return
// them, and the token count follows from them by the resize rule, so a prompt
// can be checked against the context before any pixel is decoded.
#include <gtest/gtest.h>
#include <webp/encode.h>

#include <random>

#include "image_test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/png_encode.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/model/model_config.h"

using namespace qwen3vl;
using namespace image_test;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

RgbImage noise(int w, int h) {
  RgbImage img(w, h);
  std::mt19937 rng(w * 131 + h);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  return img;
}

std::vector<uint8_t> bmp24(int w, int h) {
  const uint32_t stride = (3 * w + 3) / 4 * 4, pixels = stride * h;
  std::vector<uint8_t> v = {'B', 'M'};
  auto le32 = [&](uint32_t x) {
    for (int s = 0; s < 32; s += 8) v.push_back(static_cast<uint8_t>(x >> s));
  };
  le32(54 + pixels);
  le32(0);
  le32(54);
  le32(40);
  le32(static_cast<uint32_t>(w));
  le32(static_cast<uint32_t>(h));
  v.insert(v.end(), {1, 0, 24, 0});
  v.resize(54, 0);
  v.resize(54 + pixels, 0x40);
  return v;
}

std::vector<uint8_t> webp(const RgbImage& img) {
  uint8_t* out = nullptr;
  const size_t n = WebPEncodeLosslessRGB(img.pixels.data(), img.width, img.height, img.width * 3, &out);
  std::vector<uint8_t> bytes(out, out + n);
  WebPFree(out);
  return bytes;
}

void expect_header_matches_decode(const std::vector<uint8_t>& bytes, const std::string& what) {
  const ImageDimensions d = read_image_header(bytes.data(), bytes.size(), what);
  const RgbImage img = decode_image(bytes.data(), bytes.size(), what);
  EXPECT_EQ(d.width, img.width) << what;
  EXPECT_EQ(d.height, img.height) << what;
}

}  // namespace

TEST(ImageHeader, EveryFormatGivesTheDecodedDimensions) {
  for (auto [w, h] : {std::pair{7, 5}, {33, 2}, {1, 40}}) {
    const std::string size = std::to_string(w) + "x" + std::to_string(h);
    expect_header_matches_decode(encode_png(noise(w, h)), "png " + size);
    expect_header_matches_decode(encode_jpeg(noise(w, h), {}), "jpeg " + size);
    expect_header_matches_decode(webp(noise(w, h)), "webp " + size);
    expect_header_matches_decode(encode_gif(std::vector<GifPixelType>(size_t(w) * h, 1), w, h), "gif " + size);
    expect_header_matches_decode(bmp24(w, h), "bmp " + size);
  }
  for (const char* name : {"img_400x300.png", "img_240x520.jpg", "img_640x360.png"}) {
    const MappedFile f(kFixture + "/golden/" + name);
    expect_header_matches_decode(std::vector<uint8_t>(f.data(), f.data() + f.size()), name);
  }
}

TEST(ImageHeader, JpegExifRotationSwapsTheSides) {
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const auto bytes = encode_jpeg(noise(12, 5), exif_with_orientation(orientation));
    const ImageDimensions d = read_image_header(bytes.data(), bytes.size(), "exif");
    const bool quarter_turn = orientation >= 5;
    EXPECT_EQ(d.width, quarter_turn ? 5 : 12) << orientation;
    EXPECT_EQ(d.height, quarter_turn ? 12 : 5) << orientation;
    expect_header_matches_decode(bytes, "exif " + std::to_string(orientation));
  }
}

TEST(ImageHeader, LyingAndBrokenHeadersAreRefusedLikeTheDecoderRefusesThem) {
  // A header declaring 100000 x 100000 pixels: refused by the pixel cap, from the header.
  const auto bomb = png_with_header(100000, 100000, false);
  try {
    read_image_header(bomb.data(), bomb.size(), "bomb.png");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("over the limit of 178956970"), std::string::npos) << e.what();
  }
  // A valid header over garbage: the header alone is fine (decoding later fails).
  const auto header_only = png_with_header(8000, 6000, false);
  const ImageDimensions d = read_image_header(header_only.data(), header_only.size(), "h.png");
  EXPECT_EQ(d.width, 8000);
  EXPECT_EQ(d.height, 6000);
  EXPECT_THROW(decode_image(header_only.data(), header_only.size(), "h.png"), Error);
  const auto bad_crc = png_with_header(10, 10, true);
  EXPECT_THROW(read_image_header(bad_crc.data(), bad_crc.size(), "crc.png"), Error);
  const std::vector<uint8_t> junk = {'G', 'I', 'F', '8', '9', 'a', 1};
  EXPECT_THROW(read_image_header(junk.data(), junk.size(), "junk.gif"), Error);
  EXPECT_THROW(read_image_header(junk.data(), 0, "empty"), Error);
}

TEST(ImageHeader, TokenCountFromTheHeaderEqualsThePreprocessedGrid) {
  const PreprocessorConfig config = load_preprocessor_config(kFixture + "/preprocessor_config.json");
  ThreadPool pool(1);
  for (const char* name : {"img_400x300.png", "img_240x520.jpg", "img_640x360.png"}) {
    const EncodedImage image(kFixture + "/golden/" + name);
    for (ImageSizeLimits limits : {ImageSizeLimits{}, ImageSizeLimits{0, 30}, ImageSizeLimits{400, 0}}) {
      const VisionGrid predicted = image_grid_for(image.dimensions().height, image.dimensions().width, config, limits);
      EXPECT_EQ(predicted, preprocess_image(image.decode(), config, pool, limits).grid) << name;
    }
  }
  // 400x300: 108 tokens by default (round(300/32)=9 rows, round(400/32)=12 columns, 9*12 merged tokens).
  EXPECT_EQ(image_grid_for(300, 400, config).merged_tokens(config.merge_size), 108);
  // An 8000 x 6000 header is priced without decoding: the config's 16777216-pixel
  // cap gives beta = sqrt(48e6 / 16777216), 110 rows and 147 columns of 32 pixels.
  EXPECT_EQ(image_grid_for(6000, 8000, config).merged_tokens(config.merge_size), 110 * 147);
  EXPECT_THROW(image_grid_for(1, 500, config), Error);  // aspect ratio over 200
}
