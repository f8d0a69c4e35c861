// GIF first frame: palette indices expanded to RGB; truncated data is an Error.
#include <gtest/gtest.h>

#include <gif_lib.h>

#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "image_test_util.h"
#include "qwen3vl/image/image_decode.h"

using namespace qwen3vl;
using namespace image_test;

TEST(ImageGif, FirstFramePaletteExpanded) {
  const auto bytes = encode_gif({0, 1, 2, 3, 2, 1}, 3, 2);
  ASSERT_EQ(detect_image_format(bytes.data(), bytes.size()), ImageFormat::Gif);
  const RgbImage img = decode_image(bytes.data(), bytes.size(), "gif");
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{0, 0, 0, 255, 0, 0, 0, 255, 0,  //
                                              10, 20, 30, 0, 255, 0, 255, 0, 0}));
  for (size_t keep : {size_t(6), size_t(13), bytes.size() - 4}) {
    SCOPED_TRACE(keep);
    EXPECT_THROW(decode_image(bytes.data(), keep, "cut gif"), Error);
  }
}
