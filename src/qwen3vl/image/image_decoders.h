// Internal: one decoder per container format, called by decode_image after
// format detection. Each validates the header against the limits before
// allocating pixels and throws Error("<source>: ...") on any problem.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl::image_detail {

RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
RgbImage decode_png(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
RgbImage decode_webp(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
RgbImage decode_gif(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
RgbImage decode_bmp(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);

// The same checks as the decoders up to the end of the header (size limits
// included), no pixel decoded: width and height as decode_* would return
// them (a JPEG's EXIF rotation applied).
ImageDimensions read_jpeg_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
ImageDimensions read_png_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
ImageDimensions read_webp_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
ImageDimensions read_gif_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);
ImageDimensions read_bmp_header(const uint8_t* data, size_t size, const std::string& source, const DecodeLimits& limits);

// Throws unless 0 < width, 0 < height and width*height <= limits.max_pixels.
void check_declared_size(int64_t width, int64_t height, const std::string& source,
                         const DecodeLimits& limits);

}  // namespace qwen3vl::image_detail
