// Small images written in every format the decoders read, for tests that
// need real files without shipping them: JPEG (with an optional EXIF APP1),
// GIF, a PNG made of a bare header and a large all-zero PNG.
#pragma once
#include <gif_lib.h>
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qwen3vl/image/rgb_image.h"

namespace image_test {

using qwen3vl::RgbImage;

// Minimal big-endian EXIF APP1 payload with one IFD0 entry: orientation.
inline std::vector<uint8_t> exif_with_orientation(int orientation) {
  return {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,  // TIFF header, IFD at 8
          0, 1,                                                   // one entry
          0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, static_cast<uint8_t>(orientation), 0, 0,  // SHORT
          0, 0, 0, 0};
}

inline std::vector<uint8_t> encode_jpeg(const RgbImage& img, const std::vector<uint8_t>& app1) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = img.width;
  cinfo.image_height = img.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  if (!app1.empty()) jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), app1.size());
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(img.row(cinfo.next_scanline));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  free(buffer);
  return out;
}

inline int append_bytes(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<std::vector<uint8_t>*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

// A w x h image of palette indices (row by row) with a 4-colour global palette.
inline std::vector<uint8_t> encode_gif(const std::vector<GifPixelType>& indices, int w, int h) {
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

inline uint32_t crc32_of(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Signature + IHDR (width x height, 8-bit RGB) + a tiny IDAT; `break_crc`
// corrupts the IHDR checksum.
inline std::vector<uint8_t> png_with_header(uint32_t width, uint32_t height, bool break_crc) {
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

}  // namespace image_test

namespace image_test {

// A width x height 8-bit RGB PNG whose pixels are all zero, written row by
// row: a few hundred kilobytes that decode to width*height*3 bytes (the
// "large all-zero PNG" an attacker sends).
inline std::vector<uint8_t> zero_png(uint32_t width, uint32_t height) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        auto* v = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
        v->insert(v->end(), data, data + n);
      },
      nullptr);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 1);
  png_write_info(png, info);
  std::vector<uint8_t> row(size_t{width} * 3, 0);
  for (uint32_t y = 0; y < height; ++y) png_write_row(png, row.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace image_test
