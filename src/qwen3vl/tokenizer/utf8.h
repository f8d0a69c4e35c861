// UTF-8 helpers shared by the tokenizer: validation with the same
// replacement policy as Rust's String::from_utf8_lossy (which is what the
// reference tokenizer uses when decoding), Unicode NFC, and the
// "how much of this buffer is complete" question a streaming decoder asks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qwen3vl {

// U+FFFD REPLACEMENT CHARACTER, as UTF-8.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at text[pos] (1..4), or 0 when
// the bytes there are not a complete valid sequence. When 0, *invalid_len is
// set to the length of the "maximal subpart" (a valid-but-truncated prefix,
// at least 1) that one U+FFFD replaces, and *truncated tells whether the
// sequence was merely cut short by the end of the buffer.
size_t utf8_sequence_length(std::string_view text, size_t pos, size_t* invalid_len = nullptr,
                            bool* truncated = nullptr);

bool is_valid_utf8(std::string_view text);

// Replaces each maximal invalid subpart by U+FFFD (Unicode's recommended
// practice, identical to Rust's from_utf8_lossy). Valid input is returned unchanged.
std::string utf8_lossy(std::string_view bytes);

// Length of the longest prefix of `bytes` that ends on a character boundary,
// treating a trailing valid-but-incomplete sequence as "not yet complete".
// Invalid bytes in the middle count as complete (they become U+FFFD).
size_t utf8_complete_prefix_length(std::string_view bytes);

// Unicode NFC of valid UTF-8 text (fast path for text that cannot change).
std::string nfc_normalize(std::string_view text);

// Decodes the code point at text[pos] of valid UTF-8 and advances pos.
char32_t utf8_next_code_point(std::string_view text, size_t& pos);
// Appends the UTF-8 encoding of a code point.
void utf8_append(std::string& out, char32_t cp);

// Unicode White_Space property (what Rust's char::is_whitespace tests).
bool is_unicode_whitespace(char32_t cp);

}  // namespace qwen3vl
