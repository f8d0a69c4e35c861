// The pre-tokenizer: splits normalized text into the pieces that BPE sees
// independently. Qwen uses a single regex Split with behavior "Isolated":
// every regex match is a piece and so is every gap between matches.
// The pattern comes from tokenizer.json (written for Oniguruma); PCRE2 with
// UTF + UCP accepts it as is: \p{L}, \p{N}, (?i:...) and the \s+(?!\S)
// lookahead mean the same. (UCP \s also matches U+180E, which Unicode's
// White_Space no longer contains; no Qwen text case depends on it.)
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

class RegexSplitter {
 public:
  // `literal`: the pattern is a plain string (tokenizer.json's {"String": ...}).
  // Throws Error naming `source` when the pattern does not compile.
  RegexSplitter(const std::string& pattern, bool literal, const std::string& source);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  // Appends the pieces of `text` (valid UTF-8) to `pieces`, in order, covering
  // it exactly. Thread-safe.
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace qwen3vl
