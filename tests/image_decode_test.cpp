// Decoding: Pillow-compatible RGB conversion, data URIs, and hostile inputs
// (each must give an Error and leave the process healthy).
#include <gtest/gtest.h>

#include <png.h>
#include <webp/encode.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/image/image_decode.h"

using namespace qwen3vl;

namespace {

const std::string kGolden = std::string(QWEN3VL_FIXTURE_DIR) + "/golden";

std::vector<uint8_t> read_bytes(const std::string& path) {
  MappedFile f(path);
  return std::vector<uint8_t>(f.data(), f.data() + f.size());
}

RgbImage decode(const std::vector<uint8_t>& bytes, const DecodeLimits& limits = {}) {
  return decode_image(bytes.data(), bytes.size(), "test image", limits);
}

// Message of the Error thrown by decoding `bytes` ("" if none).
std::string decode_error(const std::vector<uint8_t>& bytes, const DecodeLimits& limits = {}) {
  try {
    decode(bytes, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<uint8_t> encode_png(png_uint_32 format, int w, int h, const void* pixels,
                                const void* colormap = nullptr, int colormap_entries = 0) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = format;
  image.colormap_entries = colormap_entries;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels, 0, colormap));
  std::vector<uint8_t> out(size);
  EXPECT_TRUE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels, 0, colormap));
  out.resize(size);
  return out;
}

uint32_t crc32_of(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Signature + IHDR (width x height, 8-bit RGB) + a tiny IDAT; `break_crc`
// corrupts the IHDR checksum.
std::vector<uint8_t> png_with_header(uint32_t width, uint32_t height, bool break_crc) {
  std::vector<uint8_t> v = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  put_be32(v, 13);
  const size_t chunk_start = v.size();
  v.insert(v.end(), {'I', 'H', 'D', 'R'});
  put_be32(v, width);
  put_be32(v, height);
  v.insert(v.end(), {8, 2, 0, 0, 0});
  put_be32(v, crc32_of(v.data() + chunk_start, v.size() - chunk_start) ^ (break_crc ? 1u : 0u));
  put_be32(v, 2);
  const size_t idat_start = v.size();
  v.insert(v.end(), {'I', 'D', 'A', 'T', 0x78, 0x9C});
  put_be32(v, crc32_of(v.data() + idat_start, v.size() - idat_start));
  return v;
}

}  // namespace

TEST(ImageDecode, Base64EncodingMatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    const auto* p = reinterpret_cast<const uint8_t*>(plain.data());
    EXPECT_EQ(encode_base64(p, plain.size()), encoded);
    const std::vector<uint8_t> back = decode_base64(encoded);
    EXPECT_EQ(std::string(back.begin(), back.end()), plain);
  }
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(decode_base64(encode_base64(all.data(), all.size())), all);
}

TEST(ImageDecode, DetectsFormatFromMagicNotExtension) {
  const std::vector<uint8_t> jpg = read_bytes(kGolden + "/img_240x520.jpg");
  const std::vector<uint8_t> png = read_bytes(kGolden + "/img_400x300.png");
  EXPECT_EQ(detect_image_format(jpg.data(), jpg.size()), ImageFormat::Jpeg);
  EXPECT_EQ(detect_image_format(png.data(), png.size()), ImageFormat::Png);
  // A PNG saved under a .jpg name decodes as the PNG it is.
  const std::string renamed = ::testing::TempDir() + "/really_a_png.jpg";
  std::ofstream(renamed, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
  const RgbImage a = load_image_file(renamed);
  EXPECT_EQ(a.width, 400);
  EXPECT_EQ(a.pixels, decode(png).pixels);
  const RgbImage j = decode(jpg);
  EXPECT_EQ(j.width, 240);
  EXPECT_EQ(j.height, 520);
}

TEST(ImageDecode, PngAlphaIsDroppedNotComposited) {
  // RGBA pixels with alpha 0 and 128 keep their colour (Pillow convert("RGB")).
  const uint8_t rgba[2 * 4] = {10, 20, 30, 0, 200, 100, 50, 128};
  const RgbImage img = decode(encode_png(PNG_FORMAT_RGBA, 2, 1, rgba));
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{10, 20, 30, 200, 100, 50}));
  // Grey + alpha: grey replicated, alpha dropped.
  const uint8_t ga[2 * 2] = {77, 0, 250, 255};
  EXPECT_EQ(decode(encode_png(PNG_FORMAT_GA, 2, 1, ga)).pixels,
            (std::vector<uint8_t>{77, 77, 77, 250, 250, 250}));
  const uint8_t grey[3] = {0, 128, 255};
  EXPECT_EQ(decode(encode_png(PNG_FORMAT_GRAY, 3, 1, grey)).pixels,
            (std::vector<uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255}));
}

TEST(ImageDecode, PngPaletteWithTransparencyExpandsColours) {
  // Palette entries with alpha (PLTE + tRNS): indices map to the RGB entries.
  const uint8_t palette[3 * 4] = {255, 0, 0, 0, 0, 255, 0, 128, 1, 2, 3, 255};
  const uint8_t indices[4] = {0, 1, 2, 1};
  const RgbImage img =
      decode(encode_png(PNG_FORMAT_RGBA_COLORMAP, 4, 1, indices, palette, 3));
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{255, 0, 0, 0, 255, 0, 1, 2, 3, 0, 255, 0}));
}

TEST(ImageDecode, Png16BitKeepsHighByte) {
  // Written by libpng's simplified API as 16-bit big-endian samples.
  const uint16_t rgb16[2 * 3] = {0x12AB, 0xFF00, 0x00FF, 0x8080, 0x7FFF, 0x0100};
  const RgbImage img = decode(encode_png(PNG_FORMAT_LINEAR_RGB, 2, 1, rgb16));
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{0x12, 0xFF, 0x00, 0x80, 0x7F, 0x01}));
}

TEST(ImageDecode, WebPLosslessRoundTrip) {
  RgbImage src(5, 3);
  std::mt19937 rng(3);
  for (auto& v : src.pixels) v = static_cast<uint8_t>(rng());
  uint8_t* encoded = nullptr;
  const size_t n = WebPEncodeLosslessRGB(src.pixels.data(), 5, 3, 15, &encoded);
  ASSERT_GT(n, 0u);
  const std::vector<uint8_t> bytes(encoded, encoded + n);
  WebPFree(encoded);
  const RgbImage img = decode(bytes);
  EXPECT_EQ(img.width, 5);
  EXPECT_EQ(img.height, 3);
  EXPECT_EQ(img.pixels, src.pixels);
  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + bytes.size() / 2);
  EXPECT_NE(decode_error(cut), "");
}

TEST(ImageDecode, Bmp24And32Bit) {
  // 2x2 24-bit bottom-up: rows padded to 8 bytes; stored BGR.
  std::vector<uint8_t> bmp = {'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,  // file header
                              40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0};
  bmp.resize(54, 0);
  // bottom row (y=1) first: (1,2,3) (4,5,6); then top row: (7,8,9) (10,11,12) as RGB
  for (uint8_t v : {3, 2, 1, 6, 5, 4, 0, 0, 9, 8, 7, 12, 11, 10, 0, 0}) bmp.push_back(v);
  EXPECT_EQ(decode(bmp).pixels, (std::vector<uint8_t>{7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6}));
  // Same pixels as 32-bit BGRX, top-down (negative height), alpha ignored.
  std::vector<uint8_t> bmp32(bmp.begin(), bmp.begin() + 54);
  bmp32[22] = 0xFE, bmp32[23] = bmp32[24] = bmp32[25] = 0xFF;  // height -2
  bmp32[28] = 32;
  for (uint8_t v : {9, 8, 7, 0, 12, 11, 10, 99, 3, 2, 1, 1, 6, 5, 4, 255}) bmp32.push_back(v);
  EXPECT_EQ(decode(bmp32).pixels, (std::vector<uint8_t>{7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6}));
  std::vector<uint8_t> truncated(bmp.begin(), bmp.end() - 4);
  EXPECT_NE(decode_error(truncated).find("truncated"), std::string::npos);
}

TEST(ImageDecode, DataUriGivesSameImageAsFile) {
  const std::vector<uint8_t> png = read_bytes(kGolden + "/img_400x300.png");
  const std::string uri = make_data_uri("image/png", png.data(), png.size());
  const RgbImage from_uri = load_image(uri);
  EXPECT_EQ(from_uri.pixels, load_image(kGolden + "/img_400x300.png").pixels);
  EXPECT_THROW(load_image("data:image/png;base64,iVBOR*w0KGgo="), Error);  // bad character
  EXPECT_THROW(load_image("data:image/png,iVBORw0KGgo="), Error);          // not base64
  EXPECT_THROW(load_image("data:image/png;base64"), Error);                // no comma
  EXPECT_THROW(load_image("data:image/png;base64,"), Error);               // empty payload
  EXPECT_THROW(load_image("data:image/png;base64,AAAA"), Error);           // not an image
}

TEST(ImageDecode, Base64Vectors) {
  auto text = [](std::string_view s) {
    const auto v = decode_base64(s);
    return std::string(v.begin(), v.end());
  };
  EXPECT_EQ(text("TWFu"), "Man");
  EXPECT_EQ(text("TWE="), "Ma");
  EXPECT_EQ(text("TQ=="), "M");
  EXPECT_EQ(text("TWE"), "Ma");  // padding optional
  EXPECT_EQ(text("TW\nFu\r\n"), "Man");
  EXPECT_EQ(text(""), "");
  EXPECT_THROW(decode_base64("T"), Error);
  EXPECT_THROW(decode_base64("TW=a"), Error);
  EXPECT_THROW(decode_base64("TQ==="), Error);
  EXPECT_THROW(decode_base64("TW-u"), Error);
}

TEST(ImageHostile, TruncatedJpegIsAnErrorNotGrey) {
  const std::vector<uint8_t> jpg = read_bytes(kGolden + "/img_240x520.jpg");
  for (size_t keep : {size_t(2), size_t(20), size_t(300), jpg.size() / 2, jpg.size() - 200}) {
    SCOPED_TRACE(keep);
    const std::vector<uint8_t> cut(jpg.begin(), jpg.begin() + keep);
    EXPECT_NE(decode_error(cut), "");
  }
  // The intact file still decodes afterwards (no global state was damaged).
  EXPECT_EQ(decode(jpg).width, 240);
}

TEST(ImageHostile, TruncatedOrCorruptPngIsAnError) {
  const std::vector<uint8_t> png = read_bytes(kGolden + "/img_640x360.png");
  for (size_t keep : {size_t(8), size_t(30), png.size() / 3, png.size() - 20}) {
    SCOPED_TRACE(keep);
    EXPECT_NE(decode_error(std::vector<uint8_t>(png.begin(), png.begin() + keep)), "");
  }
  // Flip a byte inside the compressed data: the IDAT CRC check fails.
  std::vector<uint8_t> corrupt = png;
  corrupt[png.size() / 2] ^= 0x5A;
  EXPECT_NE(decode_error(corrupt), "");
  // An IHDR with a broken CRC.
  EXPECT_NE(decode_error(png_with_header(16, 16, /*break_crc=*/true)), "");
  // A consistent small header but no image data.
  EXPECT_NE(decode_error(png_with_header(16, 16, false)), "");
}

TEST(ImageHostile, HugeDeclaredSizeRefusedBeforeDecoding) {
  // 100000 x 100000 = 1e10 pixels: would need 30 GB. The IHDR is valid, so
  // only the pixel cap stops it, before any row is allocated.
  const std::string png_msg = decode_error(png_with_header(100000, 100000, false));
  EXPECT_NE(png_msg.find("refused before decoding"), std::string::npos) << png_msg;
  // JPEG: SOI, SOF0 declaring 60000x60000 grey, SOS; nothing else.
  const std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0,
                                     0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0, 0, 0, 0};
  const std::string jpeg_msg = decode_error(jpeg);
  EXPECT_NE(jpeg_msg.find("refused before decoding"), std::string::npos) << jpeg_msg;
  // A configurable cap applies to real files too.
  const std::vector<uint8_t> jpg = read_bytes(kGolden + "/img_240x520.jpg");
  EXPECT_NE(decode_error(jpg, DecodeLimits{240 * 520 - 1}).find("over the limit"), std::string::npos);
  EXPECT_EQ(decode(jpg, DecodeLimits{240 * 520}).height, 520);
  // Zero-sized PNG header.
  EXPECT_NE(decode_error(png_with_header(0, 10, false)), "");
}

TEST(ImageHostile, EmptyRandomAndMissingInputs) {
  EXPECT_NE(decode_error({}).find("empty"), std::string::npos);
  const std::string empty_file = ::testing::TempDir() + "/empty.png";
  std::ofstream(empty_file, std::ios::binary).close();
  EXPECT_THROW(load_image_file(empty_file), Error);
  EXPECT_THROW(load_image_file(::testing::TempDir() + "/does_not_exist.png"), Error);

  std::mt19937 rng(1234);
  std::vector<uint8_t> noise(4096);
  for (auto& v : noise) v = static_cast<uint8_t>(rng());
  EXPECT_NE(decode_error(noise).find("unknown image format"), std::string::npos);
  // Random bodies behind each format's magic bytes: Error or a (garbage) image,
  // never a crash, hang or exit.
  const std::vector<std::vector<uint8_t>> magics = {
      {0xFF, 0xD8, 0xFF}, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
      {'G', 'I', 'F', '8', '9', 'a'}, {'B', 'M'},
      {'R', 'I', 'F', 'F', 0, 1, 0, 0, 'W', 'E', 'B', 'P'}};
  int errors = 0;
  for (const auto& magic : magics) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint8_t> bytes = magic;
      const size_t n = 16 + rng() % 512;
      for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(rng()));
      errors += decode_error(bytes) != "";
    }
  }
  EXPECT_GE(errors, 95);  // random data essentially never forms a valid image
}
