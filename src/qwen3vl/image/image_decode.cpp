#include "qwen3vl/image/image_decode.h"

#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl {

const char* image_format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::WebP: return "WebP";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Bmp: return "BMP";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

ImageFormat detect_image_format(const uint8_t* data, size_t size) {
  auto starts = [&](const char* magic, size_t n, size_t offset = 0) {
    return size >= offset + n && std::memcmp(data + offset, magic, n) == 0;
  };
  if (starts("\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (starts("\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::WebP;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::Gif;
  if (starts("BM", 2) && size >= 26) return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

namespace image_detail {

void check_declared_size(int64_t width, int64_t height, const std::string& source,
                         const DecodeLimits& limits) {
  if (width <= 0 || height <= 0)
    throw Error(source + ": image has zero size (" + std::to_string(width) + "x" +
                std::to_string(height) + ")");
  // Both factors are below 2^32 so the product cannot overflow int64.
  if (width * height > limits.max_pixels)
    throw Error(source + ": image declares " + std::to_string(width) + "x" + std::to_string(height) +
                " = " + std::to_string(width * height) + " pixels, over the limit of " +
                std::to_string(limits.max_pixels) + " (refused before decoding)");
}

}  // namespace image_detail

RgbImage decode_image(const uint8_t* data, size_t size, const std::string& source,
                      const DecodeLimits& limits) {
  if (size == 0) throw Error(source + ": empty image data");
  switch (detect_image_format(data, size)) {
    case ImageFormat::Jpeg: return image_detail::decode_jpeg(data, size, source, limits);
    case ImageFormat::Png: return image_detail::decode_png(data, size, source, limits);
    case ImageFormat::WebP: return image_detail::decode_webp(data, size, source, limits);
    case ImageFormat::Gif: return image_detail::decode_gif(data, size, source, limits);
    case ImageFormat::Bmp: return image_detail::decode_bmp(data, size, source, limits);
    case ImageFormat::Unknown: break;
  }
  throw Error(source + ": unknown image format (expected JPEG, PNG, WebP, GIF or BMP magic bytes)");
}

RgbImage load_image_file(const std::string& path, const DecodeLimits& limits) {
  if (!file_exists(path)) throw Error(path + ": image file not found");
  const MappedFile file(path);
  if (file.size() == 0) throw Error(path + ": empty image file");
  return decode_image(file.data(), file.size(), path, limits);
}

RgbImage load_image(std::string_view path_or_data_uri, const DecodeLimits& limits) {
  if (is_data_uri(path_or_data_uri)) {
    const DataUri uri = parse_data_uri(path_or_data_uri);
    return decode_image(uri.bytes.data(), uri.bytes.size(), "data URI (" + uri.media_type + ")", limits);
  }
  return load_image_file(std::string(path_or_data_uri), limits);
}

}  // namespace qwen3vl
