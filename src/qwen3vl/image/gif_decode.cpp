// GIF: the first frame only, through giflib's low-level record API (not
// DGifSlurp, which would decode every frame of a possibly huge animation).
// Pillow presents the first frame as a palette image of the logical-screen
// size; convert("RGB") maps every index through the palette, transparent
// index included (alpha is dropped). Screen pixels the frame does not cover
// take the background colour (an approximation of Pillow's fill; such files
// are rare).
#include <gif_lib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <memory>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl::image_detail {

namespace {

struct MemoryReader {
  const uint8_t* data;
  size_t size;
  size_t offset;
};

int read_from_memory(GifFileType* gif, GifByteType* out, int length) {
  auto* r = static_cast<MemoryReader*>(gif->UserData);
  const size_t n = std::min(static_cast<size_t>(length < 0 ? 0 : length), r->size - r->offset);
  std::memcpy(out, r->data + r->offset, n);
  r->offset += n;
  return static_cast<int>(n);  // short reads make giflib report an error
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int ignored = 0;
    DGifCloseFile(gif, &ignored);
  }
};

std::string gif_error_text(int code) {
  const char* text = GifErrorString(code);
  return text ? text : ("giflib error " + std::to_string(code));
}

using GifHandle = std::unique_ptr<GifFileType, GifCloser>;

// Opens the file and checks its logical screen, the size of the output image.
GifHandle open_checked(MemoryReader* reader, const std::string& source, const DecodeLimits& limits) {
  int error = 0;
  GifHandle gif(DGifOpen(reader, read_from_memory, &error));
  if (!gif) throw Error(source + ": cannot decode GIF: " + gif_error_text(error));
  check_declared_size(gif->SWidth, gif->SHeight, source, limits);
  return gif;
}

}  // namespace

ImageDimensions read_gif_header(const uint8_t* data, size_t size, const std::string& source,
                            const DecodeLimits& limits) {
  MemoryReader reader{data, size, 0};
  const GifHandle gif = open_checked(&reader, source, limits);
  return {gif->SWidth, gif->SHeight};
}

RgbImage decode_gif(const uint8_t* data, size_t size, const std::string& source,
                    const DecodeLimits& limits) {
  MemoryReader reader{data, size, 0};
  const GifHandle gif = open_checked(&reader, source, limits);
  auto fail = [&](const char* what) {
    throw Error(source + ": cannot decode GIF (" + what + "): " + gif_error_text(gif->Error));
  };
  for (;;) {
    GifRecordType record;
    if (DGifGetRecordType(gif.get(), &record) == GIF_ERROR) fail("record");
    if (record == TERMINATE_RECORD_TYPE) throw Error(source + ": GIF contains no image");
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) fail("extension");
      while (block != nullptr)
        if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) fail("extension");
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;

    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) fail("image descriptor");
    const GifImageDesc& desc = gif->Image;
    const ColorMapObject* palette = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    if (!palette) throw Error(source + ": GIF frame has no colour table");
    if (desc.Width <= 0 || desc.Height <= 0) throw Error(source + ": GIF frame has zero size");
    check_declared_size(desc.Width, desc.Height, source, limits);

    auto colour = [&](int index, uint8_t* out) {
      if (index < palette->ColorCount) {
        const GifColorType& c = palette->Colors[index];
        out[0] = c.Red, out[1] = c.Green, out[2] = c.Blue;
      } else {
        out[0] = out[1] = out[2] = 0;
      }
    };
    RgbImage image(gif->SWidth, gif->SHeight);
    uint8_t background[3];
    colour(gif->SBackGroundColor, background);
    for (size_t i = 0; i < image.pixels.size(); i += 3) std::memcpy(&image.pixels[i], background, 3);

    // Interlaced frames arrive in four passes of rows: every 8th from 0, every
    // 8th from 4, every 4th from 2, every 2nd from 1.
    std::vector<int> row_order;
    row_order.reserve(desc.Height);
    if (desc.Interlace) {
      const int starts[4] = {0, 4, 2, 1}, steps[4] = {8, 8, 4, 2};
      for (int pass = 0; pass < 4; ++pass)
        for (int y = starts[pass]; y < desc.Height; y += steps[pass]) row_order.push_back(y);
    } else {
      for (int y = 0; y < desc.Height; ++y) row_order.push_back(y);
    }
    std::vector<GifPixelType> line(desc.Width);
    for (int frame_row : row_order) {
      if (DGifGetLine(gif.get(), line.data(), desc.Width) == GIF_ERROR) fail("pixel data");
      const int y = desc.Top + frame_row;
      if (y < 0 || y >= image.height) continue;
      for (int x = 0; x < desc.Width; ++x) {
        const int sx = desc.Left + x;
        if (sx < 0 || sx >= image.width) continue;
        colour(line[x], image.row(y) + 3 * sx);
      }
    }
    return image;
  }
}

}  // namespace qwen3vl::image_detail
