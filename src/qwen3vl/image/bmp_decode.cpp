// Uncompressed Windows BMP: 1/4/8-bit palette, 24-bit BGR and 32-bit BGRX
// (BI_RGB, or BI_BITFIELDS with byte-aligned 8-bit masks), bottom-up or
// top-down, with the OS/2 core header or any BITMAPINFOHEADER version. That is
// what cameras, screenshots and Pillow itself write; RLE and 16-bit variants
// are refused with a clear Error. Alpha in 32-bit files is dropped, as
// Pillow's convert("RGB") does.
#include <cstring>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl::image_detail {

namespace {

uint32_t u32le(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint16_t u16le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Bit position of an 8-bit-wide mask (0xFF << 8k), or -1.
int byte_mask_shift(uint32_t mask) {
  for (int shift = 0; shift <= 24; shift += 8)
    if (mask == (0xFFu << shift)) return shift;
  return -1;
}

struct BmpHeader {
  uint32_t pixel_offset = 0, dib_size = 0;
  int64_t width = 0, height = 0;
  int bits = 0, planes = 0;
  uint32_t compression = 0, colours_used = 0;
  bool core_header = false, top_down = false;
};

[[noreturn]] void refuse(const std::string& source, const std::string& what) {
  throw Error(source + ": cannot decode BMP: " + what);
}

// The file and DIB headers, with the declared size checked against the limits.
BmpHeader parse_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits) {
  if (size < 14 + 12) refuse(source, "file too short for its headers");
  BmpHeader h;
  h.pixel_offset = u32le(data + 10);
  h.dib_size = u32le(data + 14);
  if (h.dib_size < 12 || 14 + static_cast<uint64_t>(h.dib_size) > size) refuse(source, "bad DIB header size");
  h.core_header = h.dib_size == 12;
  if (h.core_header) {
    h.width = u16le(data + 18);
    h.height = u16le(data + 20);
    h.planes = u16le(data + 22);
    h.bits = u16le(data + 24);
  } else {
    if (h.dib_size < 40) refuse(source, "bad DIB header size");
    h.width = static_cast<int32_t>(u32le(data + 18));
    h.height = static_cast<int32_t>(u32le(data + 22));
    h.planes = u16le(data + 26);
    h.bits = u16le(data + 28);
    h.compression = u32le(data + 30);
    h.colours_used = u32le(data + 46);
  }
  h.top_down = h.height < 0;
  if (h.top_down) h.height = -h.height;
  if (h.width < 0) refuse(source, "negative width");
  check_declared_size(h.width, h.height, source, limits);
  if (h.planes != 1) refuse(source, "planes must be 1");
  return h;
}

}  // namespace

ImageDimensions read_bmp_header(const uint8_t* data, size_t size, const std::string& source,
                            const DecodeLimits& limits) {
  const BmpHeader h = parse_header(data, size, source, limits);
  return {static_cast<int>(h.width), static_cast<int>(h.height)};
}

RgbImage decode_bmp(const uint8_t* data, size_t size, const std::string& source,
                    const DecodeLimits& limits) {
  const BmpHeader h = parse_header(data, size, source, limits);
  auto fail = [&](const std::string& what) -> RgbImage { refuse(source, what); };
  const uint32_t pixel_offset = h.pixel_offset, dib_size = h.dib_size, compression = h.compression,
                 colours_used = h.colours_used;
  const int64_t width = h.width, height = h.height;
  const int bits = h.bits;
  const bool core_header = h.core_header, top_down = h.top_down;

  // Channel shifts within a 32-bit little-endian pixel (BGRX by default).
  int red_shift = 16, green_shift = 8, blue_shift = 0;
  if (compression == 3 && bits == 32) {  // BI_BITFIELDS
    // Masks follow a 40-byte header, or sit inside the V2+ header; same offset.
    if (14 + 40 + 12 > size) return fail("missing bit-field masks");
    red_shift = byte_mask_shift(u32le(data + 54));
    green_shift = byte_mask_shift(u32le(data + 58));
    blue_shift = byte_mask_shift(u32le(data + 62));
    if (red_shift < 0 || green_shift < 0 || blue_shift < 0) return fail("unsupported bit-field masks");
  } else if (compression != 0) {
    return fail("compression type " + std::to_string(compression) + " is not supported");
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 24 && bits != 32)
    return fail(std::to_string(bits) + "-bit pixels are not supported");

  // Palette: after the DIB header (and the masks of a 40-byte BITFIELDS header).
  const uint8_t* palette = nullptr;
  uint32_t palette_entries = 0;
  const int entry_size = core_header ? 3 : 4;
  if (bits <= 8) {
    palette_entries = colours_used ? colours_used : (1u << bits);
    if (palette_entries > 256) return fail("palette larger than 256 entries");
    const uint64_t start = 14 + static_cast<uint64_t>(dib_size);
    const uint64_t available = start < size ? (size - start) / entry_size : 0;
    if (available < palette_entries) palette_entries = static_cast<uint32_t>(available);
    palette = data + start;
  }

  const uint64_t stride = (static_cast<uint64_t>(bits) * width + 31) / 32 * 4;
  if (pixel_offset > size || stride * height > size - pixel_offset) return fail("truncated pixel data");

  RgbImage image(static_cast<int>(width), static_cast<int>(height));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* in = data + pixel_offset + stride * (top_down ? y : height - 1 - y);
    uint8_t* out = image.row(static_cast<int>(y));
    for (int64_t x = 0; x < width; ++x, out += 3) {
      if (bits == 24) {
        const uint8_t* p = in + 3 * x;
        out[0] = p[2], out[1] = p[1], out[2] = p[0];
      } else if (bits == 32) {
        const uint32_t v = u32le(in + 4 * x);
        out[0] = static_cast<uint8_t>(v >> red_shift);
        out[1] = static_cast<uint8_t>(v >> green_shift);
        out[2] = static_cast<uint8_t>(v >> blue_shift);
      } else {
        const int64_t bit = x * bits;
        const int shift = 8 - bits - static_cast<int>(bit % 8);
        const uint32_t index = (in[bit / 8] >> shift) & ((1u << bits) - 1);
        if (index < palette_entries) {
          const uint8_t* c = palette + index * entry_size;
          out[0] = c[2], out[1] = c[1], out[2] = c[0];
        } else {
          out[0] = out[1] = out[2] = 0;
        }
      }
    }
  }
  return image;
}

}  // namespace qwen3vl::image_detail
