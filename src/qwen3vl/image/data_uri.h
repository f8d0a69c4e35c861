// `data:` URIs as sent by chat clients (OpenAI-style image_url parts):
// data:image/png;base64,iVBORw0... Only the base64 form is accepted: images are
// binary and the percent-encoded form is never used for them in practice.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

// True when `text` starts with "data:" (case-insensitive scheme).
bool is_data_uri(std::string_view text);

// Decodes standard base64 (RFC 4648 alphabet, '=' padding optional, ASCII
// whitespace ignored). Throws Error on any other character or a bad length.
std::vector<uint8_t> decode_base64(std::string_view text);

// Standard base64 with '=' padding (the inverse of decode_base64).
std::string encode_base64(const uint8_t* data, size_t size);

// "data:<media_type>;base64,<payload>".
std::string make_data_uri(const std::string& media_type, const uint8_t* data, size_t size);

struct DataUri {
  std::string media_type;  // e.g. "image/png"; may be empty
  std::vector<uint8_t> bytes;
};

// Parses "data:[<media type>][;params];base64,<payload>". Throws Error naming
// the problem (missing comma, not base64, bad payload).
DataUri parse_data_uri(std::string_view uri);

}  // namespace qwen3vl
