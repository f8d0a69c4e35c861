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

namespace {

// The decoder and header reader of one container format.
struct Codec {
  RgbImage (*decode)(const uint8_t*, size_t, const std::string&, const DecodeLimits&);
  ImageDimensions (*header)(const uint8_t*, size_t, const std::string&, const DecodeLimits&);
};

const Codec& codec_for(const uint8_t* data, size_t size, const std::string& source) {
  using namespace image_detail;
  static const Codec jpeg{decode_jpeg, read_jpeg_header}, png{decode_png, read_png_header},
      webp{decode_webp, read_webp_header}, gif{decode_gif, read_gif_header}, bmp{decode_bmp, read_bmp_header};
  if (size == 0) throw Error(source + ": empty image data");
  switch (detect_image_format(data, size)) {
    case ImageFormat::Jpeg: return jpeg;
    case ImageFormat::Png: return png;
    case ImageFormat::WebP: return webp;
    case ImageFormat::Gif: return gif;
    case ImageFormat::Bmp: return bmp;
    case ImageFormat::Unknown: break;
  }
  throw Error(source + ": unknown image format (expected JPEG, PNG, WebP, GIF or BMP magic bytes)");
}

}  // namespace

RgbImage decode_image(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits) {
  return codec_for(data, size, source).decode(data, size, source, limits);
}

ImageDimensions read_image_header(const uint8_t* data, size_t size, const std::string& source,
                                  const DecodeLimits& limits) {
  return codec_for(data, size, source).header(data, size, source, limits);
}

EncodedImage::EncodedImage(std::string_view path_or_data_uri, const DecodeLimits& limits) : limits_(limits) {
  if (is_data_uri(path_or_data_uri)) {
    DataUri uri = parse_data_uri(path_or_data_uri);
    source_ = "data URI (" + uri.media_type + ")";
    bytes_ = std::move(uri.bytes);
    data_ = bytes_.data();
    size_ = bytes_.size();
  } else {
    source_ = std::string(path_or_data_uri);
    if (!file_exists(source_)) throw Error(source_ + ": image file not found");
    file_ = MappedFile(source_);
    if (file_.size() == 0) throw Error(source_ + ": empty image file");
    data_ = file_.data();
    size_ = file_.size();
  }
  dimensions_ = read_image_header(data_, size_, source_, limits_);
}

RgbImage EncodedImage::decode() const { return decode_image(data_, size_, source_, limits_); }

RgbImage load_image_file(const std::string& path, const DecodeLimits& limits) { return EncodedImage(path, limits).decode(); }

RgbImage load_image(std::string_view path_or_data_uri, const DecodeLimits& limits) {
  return EncodedImage(path_or_data_uri, limits).decode();
}

}  // namespace qwen3vl
