// The Qwen text tokenizer, loaded from Hugging Face tokenizer.json and
// matching the reference `tokenizers` library id for id:
//   added tokens found in raw text -> NFC -> regex split -> byte-level BPE.
// Decoding concatenates token bytes and replaces invalid UTF-8 with U+FFFD
// the way the reference does.
//
// Input text that is not valid UTF-8 is first repaired (each invalid subpart
// becomes U+FFFD) and then encoded; nothing throws for bad text.
//
// encode() adds no BOS/EOS (Qwen's post_processor adds none; chat prompts
// carry their own <|im_start|> markers).
//
// A Tokenizer is immutable after load and safe to share between threads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qwen3vl/tokenizer/added_tokens.h"
#include "qwen3vl/tokenizer/bpe.h"
#include "qwen3vl/tokenizer/pre_tokenizer.h"

namespace qwen3vl {

class Tokenizer {
 public:
  // Throws Error naming the file when it is missing, not JSON, or describes a
  // tokenizer this class does not implement (only byte-level BPE is supported).
  static Tokenizer load(const std::string& tokenizer_json_path);
  // The same from tokenizer.json text in memory; `origin` names it in errors.
  static Tokenizer load_from_json(std::string_view tokenizer_json, const std::string& origin);

  // `parse_special` = false encodes special tokens' text as ordinary text
  // (what the reference calls split_special_tokens); non-special added tokens
  // such as <think> are still recognised, as they are there.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;

  // Unknown ids are skipped, as in the reference. `skip_special` drops added
  // tokens flagged special (<|im_end|>, <|image_pad|>, ...), not <think>.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

  // Raw bytes a token stands for (empty for unknown ids or skipped specials).
  std::string_view token_bytes(int32_t id, bool skip_special = false) const;

  // Accepts a vocab token as written in tokenizer.json ("Ġworld") or an added
  // token's content ("<|im_start|>"); -1 when there is none.
  int32_t token_to_id(std::string_view token) const;
  // The inverse; throws Error for an id that is not a token.
  std::string id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  // Number of ids in use incl. added tokens (largest id + 1); the model's
  // embedding table may be larger (padded).
  int32_t vocab_size() const { return vocab_size_; }

 private:
  Tokenizer(BpeModel bpe, RegexSplitter splitter) : bpe_(std::move(bpe)), splitter_(std::move(splitter)) {}
  // Normalizes, splits and BPE-encodes a stretch of plain text.
  void encode_plain(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
  void encode_normalized(std::string_view text, std::vector<int32_t>& out) const;

  BpeModel bpe_;
  RegexSplitter splitter_;
  bool nfc_ = false;
  AddedTokenMatcher raw_added_;         // added tokens with normalized=false
  AddedTokenMatcher normalized_added_;  // added tokens with normalized=true
  bool ignore_merges_ = false;           // a piece that is a whole vocab token skips BPE
  int32_t vocab_size_ = 0;

  // Ids that do not decode through the BPE vocab: added tokens, and the odd
  // vocab entry written outside the byte-level alphabet (BPE can never
  // produce those; the reference decodes them as their raw UTF-8).
  struct TokenOverride {
    int32_t id = -1;
    std::string text;   // what id_to_token shows
    std::string bytes;  // what decode emits
    bool special = false;
  };
  std::vector<TokenOverride> overrides_;
  std::vector<int32_t> override_of_id_;  // index into overrides_ or -1, by id
  std::vector<std::pair<std::string, int32_t>> added_by_content_;
};

// Turns ids into text one at a time for streaming output: only complete UTF-8
// is emitted; the bytes of a character split across tokens are held back
// until it is whole. Invalid bytes come out as U+FFFD like decode(), so the
// concatenated output equals decode() of all ids. The Tokenizer must outlive it;
// one StreamDecoder per stream (it is not thread-safe itself).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tokenizer_(&tokenizer), skip_special_(skip_special) {}
  // Returns the text that became complete with this id (possibly empty).
  std::string put(int32_t id);
  // Returns whatever is still held back (an unfinished character becomes U+FFFD) and resets.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace qwen3vl
