// GPT-2's byte-level alphabet: every byte 0..255 is given a printable Unicode
// character so that BPE vocabularies can be stored as text. Printable Latin-1
// bytes map to themselves; the other 68 (controls, space, 0x7F-0xA0, 0xAD)
// map to U+0100.. in byte order (space becomes 'Ġ', newline 'Ċ').
// Internally the tokenizer works on raw bytes; this alphabet is only used to
// read vocab/merges from tokenizer.json and to show tokens to people.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qwen3vl {

// The code point that stands for `byte`.
char32_t byte_to_alphabet_char(uint8_t byte);
// The byte a code point stands for, or -1 if it is not in the alphabet.
int alphabet_char_to_byte(char32_t cp);

// Raw bytes -> alphabet text (UTF-8), e.g. " world" -> "Ġworld".
std::string bytes_to_alphabet(std::string_view bytes);
// Alphabet text (valid UTF-8) -> raw bytes; nullopt if some character is not in the alphabet.
std::optional<std::string> alphabet_to_bytes(std::string_view text);
// Same, rewriting `text` in place (bytes are never longer than their
// alphabet text); returns false, leaving `text` unspecified, if some character is not in the alphabet.
bool alphabet_to_bytes_in_place(std::string& text);

}  // namespace qwen3vl
