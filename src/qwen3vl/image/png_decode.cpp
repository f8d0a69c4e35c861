// PNG through libpng, reproducing what Pillow's PNG plugin followed by
// convert("RGB") yields:
// - palette images are expanded through the palette; tRNS transparency and
//   alpha channels are dropped, never composited;
// - 1/2/4-bit grey is scaled to 8 bits by bit replication (Pillow's L;1/L;2/
//   L;4 unpackers give the same values: 0, 85, 170, 255 for 2 bits);
// - 16-bit samples keep their most significant byte (Pillow's "RGB;16B" /
//   "RGBA;16B" unpackers); see image_decode.h for 16-bit grey;
// - gAMA/sRGB/iCCP are ignored, as Pillow ignores them when loading.
// libpng errors longjmp back into run_decoder() (no C++ objects in that
// frame) and become an Error; a CRC error in a critical chunk, bad IHDR values
// and truncated data are all fatal.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <png.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl::image_detail {

namespace {

struct PngSession {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t offset = 0;
  char message[256] = {0};
  RgbImage image;
  std::vector<png_bytep> rows;
  ~PngSession() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void on_png_error(png_structp png, png_const_charp text) {
  auto* s = static_cast<PngSession*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof(s->message), "%s", text ? text : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {
  // Ancillary-chunk problems (bad CRC in tEXt, unknown sRGB profile...) are
  // warnings; Pillow ignores them too.
}

void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* s = static_cast<PngSession*>(png_get_io_ptr(png));
  if (length > s->size - s->offset) png_error(png, "truncated PNG data (premature end of file)");
  std::memcpy(out, s->data + s->offset, length);
  s->offset += length;
}

bool run_decoder(PngSession* s, const DecodeLimits* limits, bool* size_refused, bool header_only) {
  s->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_png_error, on_png_warning);
  if (!s->png) {
    std::snprintf(s->message, sizeof(s->message), "cannot create libpng reader");
    return false;
  }
  s->info = png_create_info_struct(s->png);
  if (!s->info) {
    std::snprintf(s->message, sizeof(s->message), "cannot create libpng info");
    return false;
  }
  if (setjmp(png_jmpbuf(s->png))) return false;
  png_set_read_fn(s->png, s, read_from_memory);
  // libpng's own dimension limit (1e6 per side) stays; our pixel cap is checked
  // right after the header, before any row memory exists.
  png_read_info(s->png, s->info);

  const int64_t width = png_get_image_width(s->png, s->info);
  const int64_t height = png_get_image_height(s->png, s->info);
  if (width <= 0 || height <= 0 || width * height > limits->max_pixels) {
    *size_refused = true;
    return false;
  }
  if (header_only) return true;

  const int color_type = png_get_color_type(s->png, s->info);
  const int bit_depth = png_get_bit_depth(s->png, s->info);
  if (bit_depth == 16) png_set_strip_16(s->png);  // keep the high byte
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(s->png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(s->png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(s->png);
  // Palette expansion turns tRNS into an alpha channel; strip it with the rest.
  png_set_strip_alpha(s->png);
  png_set_interlace_handling(s->png);
  png_read_update_info(s->png, s->info);

  if (png_get_rowbytes(s->png, s->info) != static_cast<size_t>(width) * 3) {
    std::snprintf(s->message, sizeof(s->message), "unexpected PNG row layout after conversion");
    return false;
  }
  s->image = RgbImage(static_cast<int>(width), static_cast<int>(height));
  s->rows.resize(static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) s->rows[y] = s->image.row(static_cast<int>(y));
  png_read_image(s->png, s->rows.data());
  // png_read_end is skipped: chunks after the image data do not change pixels.
  return true;
}

// Runs the decoder (or only its header part) and turns failures into Error.
std::unique_ptr<PngSession> run_checked(const uint8_t* data, size_t size, const std::string& source,
                                        const DecodeLimits& limits, bool header_only) {
  auto session = std::make_unique<PngSession>();
  session->data = data;
  session->size = size;
  bool size_refused = false;
  if (!run_decoder(session.get(), &limits, &size_refused, header_only)) {
    if (size_refused)
      check_declared_size(png_get_image_width(session->png, session->info),
                          png_get_image_height(session->png, session->info), source, limits);
    throw Error(source + ": cannot decode PNG: " + session->message);
  }
  return session;
}

}  // namespace

RgbImage decode_png(const uint8_t* data, size_t size, const std::string& source,
                    const DecodeLimits& limits) {
  return std::move(run_checked(data, size, source, limits, false)->image);
}

ImageDimensions read_png_header(const uint8_t* data, size_t size, const std::string& source,
                            const DecodeLimits& limits) {
  const auto session = run_checked(data, size, source, limits, true);
  return {static_cast<int>(png_get_image_width(session->png, session->info)),
          static_cast<int>(png_get_image_height(session->png, session->info))};
}

}  // namespace qwen3vl::image_detail
