#include "qwen3vl/tokenizer/byte_level.h"

#include <array>

#include "qwen3vl/tokenizer/utf8.h"

namespace qwen3vl {
namespace {

struct Alphabet {
  std::array<char32_t, 256> char_of_byte{};
  std::array<int16_t, 512> byte_of_char{};  // every alphabet char is < U+0144

  Alphabet() {
    byte_of_char.fill(-1);
    const auto keeps_itself = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next_substitute = 256;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = keeps_itself(b) ? static_cast<char32_t>(b) : next_substitute++;
      char_of_byte[b] = cp;
      byte_of_char[cp] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

}  // namespace

char32_t byte_to_alphabet_char(uint8_t byte) { return alphabet().char_of_byte[byte]; }

int alphabet_char_to_byte(char32_t cp) {
  return cp < alphabet().byte_of_char.size() ? alphabet().byte_of_char[cp] : -1;
}

std::string bytes_to_alphabet(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) utf8_append(out, byte_to_alphabet_char(static_cast<uint8_t>(c)));
  return out;
}

std::optional<std::string> alphabet_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const int b = alphabet_char_to_byte(utf8_next_code_point(text, pos));
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

bool alphabet_to_bytes_in_place(std::string& text) {
  size_t read = 0, write = 0;
  while (read < text.size()) {
    const uint8_t lead = static_cast<uint8_t>(text[read]);
    int b;
    if (lead < 0x80) {  // ASCII letters and punctuation stand for themselves
      b = alphabet_char_to_byte(lead);
      ++read;
    } else {
      b = alphabet_char_to_byte(utf8_next_code_point(text, read));
    }
    if (b < 0) return false;
    text[write++] = static_cast<char>(b);
  }
  text.resize(write);
  return true;
}

}  // namespace qwen3vl
