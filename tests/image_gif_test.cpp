// GIF first frame: palette indices expanded to RGB; truncated data is an Error.
#include <gtest/gtest.h>

#include <gif_lib.h>

#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decode.h"

using namespace qwen3vl;

namespace {

int append_bytes(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<std::vector<uint8_t>*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

// 3x2 image, 4-colour global palette, indices row by row.
std::vector<uint8_t> encode_gif(const std::vector<GifPixelType>& indices, int w, int h) {
  std::vector<uint8_t> bytes;
  int error = 0;
  GifFileType* gif = EGifOpen(&bytes, append_bytes, &error);
  EXPECT_NE(gif, nullptr);
  const GifColorType colours[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
  ColorMapObject* map = GifMakeMapObject(4, colours);
  EXPECT_EQ(EGifPutScreenDesc(gif, w, h, 8, 0, map), GIF_OK);
  EXPECT_EQ(EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr), GIF_OK);
  for (int y = 0; y < h; ++y)
    EXPECT_EQ(EGifPutLine(gif, const_cast<GifPixelType*>(&indices[y * w]), w), GIF_OK);
  EGifCloseFile(gif, &error);
  GifFreeMapObject(map);
  return bytes;
}

}  // namespace

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
