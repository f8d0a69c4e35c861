#include "qwen3vl/image/data_uri.h"

#include <array>
#include <cctype>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

constexpr int kInvalid = -1;
constexpr int kWhitespace = -2;

std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> t{};
  t.fill(kInvalid);
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  for (char c : {' ', '\t', '\r', '\n', '\f', '\v'}) t[static_cast<uint8_t>(c)] = kWhitespace;
  return t;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

bool is_data_uri(std::string_view text) { return starts_with_ci(text, "data:"); }

std::vector<uint8_t> decode_base64(std::string_view text) {
  static const std::array<int8_t, 256> table = make_base64_table();
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t accumulator = 0;
  int sextets = 0;  // sextets in the current 4-character group
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = table[c];
    if (v == kWhitespace) continue;
    if (v == kInvalid)
      throw Error("base64: invalid character at offset " + std::to_string(i));
    if (padding != 0) throw Error("base64: data after '=' padding at offset " + std::to_string(i));
    accumulator = (accumulator << 6) | static_cast<uint32_t>(v);
    if (++sextets == 4) {
      out.push_back(static_cast<uint8_t>(accumulator >> 16));
      out.push_back(static_cast<uint8_t>(accumulator >> 8));
      out.push_back(static_cast<uint8_t>(accumulator));
      accumulator = 0;
      sextets = 0;
    }
  }
  // A final group of 2 or 3 characters carries 1 or 2 bytes; 1 character
  // cannot encode a whole byte, and padding must not exceed what completes it.
  if (sextets == 1) throw Error("base64: truncated input (a lone trailing character)");
  if (padding > 2 || (padding != 0 && sextets + padding != 4))
    throw Error("base64: wrong '=' padding");
  if (sextets == 2) {
    out.push_back(static_cast<uint8_t>(accumulator >> 4));
  } else if (sextets == 3) {
    out.push_back(static_cast<uint8_t>(accumulator >> 10));
    out.push_back(static_cast<uint8_t>(accumulator >> 2));
  }
  return out;
}

std::string encode_base64(const uint8_t* data, size_t size) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int shift : {18, 12, 6, 0}) out.push_back(alphabet[(v >> shift) & 63]);
  }
  if (i < size) {  // 1 or 2 bytes left: 2 or 3 characters, then padding to 4
    const uint32_t v = (uint32_t{data[i]} << 16) | (i + 1 < size ? uint32_t{data[i + 1]} << 8 : 0);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < size ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string make_data_uri(const std::string& media_type, const uint8_t* data, size_t size) {
  return "data:" + media_type + ";base64," + encode_base64(data, size);
}

DataUri parse_data_uri(std::string_view uri) {
  if (!is_data_uri(uri)) throw Error("data URI: does not start with 'data:'");
  const size_t comma = uri.find(',');
  if (comma == std::string_view::npos) throw Error("data URI: no ',' before the payload");
  const std::string_view header = uri.substr(5, comma - 5);
  // The last parameter must be ";base64"; anything else is percent-encoded text.
  const size_t semicolon = header.rfind(';');
  if (semicolon == std::string_view::npos ||
      !starts_with_ci(header.substr(semicolon + 1), "base64") ||
      header.size() - semicolon - 1 != 6)
    throw Error("data URI: only ';base64' payloads are supported for images");
  DataUri result;
  const size_t type_end = header.find(';');
  result.media_type = std::string(header.substr(0, type_end));
  try {
    result.bytes = decode_base64(uri.substr(comma + 1));
  } catch (const Error& e) {
    throw Error(std::string("data URI: ") + e.what());
  }
  if (result.bytes.empty()) throw Error("data URI: empty payload");
  return result;
}

}  // namespace qwen3vl
