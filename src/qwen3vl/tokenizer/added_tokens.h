// Added tokens (<|im_start|>, <|image_pad|>, <think>, ...) are found in the
// text before any normalization or regex splitting, so that their characters
// never reach BPE. Matching is leftmost-longest, and each token's flags are
// honoured as in the reference tokenizer:
//  - lstrip / rstrip: the match also swallows whitespace on that side;
//  - single_word: only matches when not touching a word character;
//  - normalized: the token is looked for in normalized (NFC) text instead of raw text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// One stretch of the input: either an added token's id or plain text.
struct TextSegment {
  std::string_view text;  // the covered text (for a token: incl. stripped whitespace)
  int32_t token_id = -1;  // -1: plain text to normalize and BPE-encode
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }
  // Splits `text` into token matches and plain-text gaps, in order.
  // `skip_special`: tokens flagged special are not matched (treated as text).
  void split(std::string_view text, bool skip_special, std::vector<TextSegment>& out) const;

 private:
  std::vector<AddedToken> tokens_;  // longest content first, so the first hit is the longest
  std::array<bool, 256> is_first_byte_{};
};

}  // namespace qwen3vl
