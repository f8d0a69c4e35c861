#include "qwen3vl/tokenizer/tokenizer.h"

#include <algorithm>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/tokenizer/byte_level.h"
#include "qwen3vl/tokenizer/tokenizer_json.h"
#include "qwen3vl/tokenizer/utf8.h"

namespace qwen3vl {
namespace {

// What tokenizer.json asks for, reduced to what this implementation supports.
struct PipelineSpec {
  bool nfc = false;
  std::string split_pattern;
  bool split_literal = false;
  bool ignore_merges = false;
};

// The regex GPT-2 style ByteLevel(use_regex=true) splits with.
constexpr const char* kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string type_of(const Json& node) {
  return node.is_object() && node.contains("type") && node["type"].is_string() ? node["type"].get<std::string>()
                                                                               : std::string("?");
}

bool flag(const Json& node, const char* key, bool fallback) {
  if (!node.contains(key) || node[key].is_null()) return fallback;
  return node[key].get<bool>();
}

bool empty_or_null_string(const Json& node, const char* key) {
  return !node.contains(key) || node[key].is_null() || node[key].get<std::string>().empty();
}

PipelineSpec read_pipeline(const Json& config, const std::string& path) {
  const auto unsupported = [&](const std::string& what) {
    return Error(path + ": unsupported tokenizer: " + what);
  };
  PipelineSpec spec;

  const Json& model = config.at("model");
  if (model.contains("type") && type_of(model) != "BPE") throw unsupported("model type " + type_of(model));
  if (model.contains("dropout") && !model["dropout"].is_null()) throw unsupported("BPE dropout");
  if (flag(model, "byte_fallback", false)) throw unsupported("BPE byte_fallback");
  if (!empty_or_null_string(model, "continuing_subword_prefix") || !empty_or_null_string(model, "end_of_word_suffix"))
    throw unsupported("BPE subword prefix/suffix");
  spec.ignore_merges = flag(model, "ignore_merges", false);

  const Json normalizer = config.value("normalizer", Json());
  if (!normalizer.is_null()) {
    std::vector<Json> steps;
    if (type_of(normalizer) == "Sequence") {
      for (const Json& step : normalizer.at("normalizers")) steps.push_back(step);
    } else {
      steps.push_back(normalizer);
    }
    for (const Json& step : steps) {
      if (type_of(step) != "NFC") throw unsupported("normalizer " + type_of(step));
      spec.nfc = true;
    }
  }

  const Json pre = config.value("pre_tokenizer", Json());
  std::vector<Json> steps;
  if (type_of(pre) == "Sequence") {
    for (const Json& step : pre.at("pretokenizers")) steps.push_back(step);
  } else if (!pre.is_null()) {
    steps.push_back(pre);
  }
  int splits = 0;
  bool byte_level = false;
  for (const Json& step : steps) {
    if (type_of(step) == "Split") {
      if (step.value("behavior", std::string()) != "Isolated") throw unsupported("Split behavior other than Isolated");
      if (flag(step, "invert", false)) throw unsupported("inverted Split");
      const Json& pattern = step.at("pattern");
      if (pattern.contains("Regex")) {
        spec.split_pattern = pattern["Regex"].get<std::string>();
      } else if (pattern.contains("String")) {
        spec.split_pattern = pattern["String"].get<std::string>();
        spec.split_literal = true;
      } else {
        throw unsupported("Split pattern without Regex/String");
      }
      ++splits;
    } else if (type_of(step) == "ByteLevel") {
      if (flag(step, "add_prefix_space", false)) throw unsupported("ByteLevel add_prefix_space");
      if (flag(step, "use_regex", true)) {
        spec.split_pattern = kByteLevelRegex;
        ++splits;
      }
      byte_level = true;
    } else {
      throw unsupported("pre_tokenizer " + type_of(step));
    }
  }
  if (!byte_level) throw unsupported("pre_tokenizer without ByteLevel (only byte-level BPE is implemented)");
  if (splits != 1) throw unsupported("pre_tokenizer must split with exactly one regex");

  if (type_of(config.value("decoder", Json())) != "ByteLevel")
    throw unsupported("decoder " + type_of(config.value("decoder", Json())));
  return spec;
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& tokenizer_json_path) {
  const MappedFile file(tokenizer_json_path);
  // Mapped, not copied, but parsing builds tables as large as the file.
  check_text_size(tokenizer_json_path, file.size());
  return load_from_json(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()),
                        tokenizer_json_path);
}

Tokenizer Tokenizer::load_from_json(std::string_view tokenizer_json, const std::string& origin) {
  const std::string& path = origin;
  TokenizerJson file = parse_tokenizer_json(tokenizer_json, origin);
  try {
    const PipelineSpec spec = read_pipeline(file.config, path);

    // Vocab and merges are written in the byte-level alphabet; BPE works on raw bytes.
    std::vector<std::pair<std::string, int32_t>> vocab;
    std::vector<std::pair<int32_t, std::string>> outside_alphabet;  // (id, text)
    vocab.reserve(file.vocab.size());
    for (auto& [text, id] : file.vocab) {
      std::string bytes = text;
      if (alphabet_to_bytes_in_place(bytes)) {
        vocab.emplace_back(std::move(bytes), id);
      } else {
        outside_alphabet.emplace_back(id, std::move(text));
      }
    }
    file.vocab = {};
    // A merge of a token outside the alphabet can never fire; dropping it
    // keeps the relative order (all that ranks mean) of the others.
    std::erase_if(file.merges, [](auto& merge) {
      return !alphabet_to_bytes_in_place(merge.first) || !alphabet_to_bytes_in_place(merge.second);
    });
    const auto& merges = file.merges;

    Tokenizer tok(BpeModel(std::move(vocab), merges, path), RegexSplitter(spec.split_pattern, spec.split_literal, path));
    tok.nfc_ = spec.nfc;
    tok.ignore_merges_ = spec.ignore_merges;

    std::vector<AddedToken> added;
    if (file.config.contains("added_tokens") && !file.config["added_tokens"].is_null()) {
      for (const Json& t : file.config["added_tokens"]) {
        AddedToken a;
        a.id = t.at("id").get<int32_t>();
        a.content = t.at("content").get<std::string>();
        a.special = flag(t, "special", false);
        a.lstrip = flag(t, "lstrip", false);
        a.rstrip = flag(t, "rstrip", false);
        a.single_word = flag(t, "single_word", false);
        a.normalized = flag(t, "normalized", !a.special);
        check(a.id >= 0, path + ": added token '" + a.content + "' has a negative id");
        check(!a.content.empty() && is_valid_utf8(a.content), path + ": added token with empty or invalid content");
        added.push_back(std::move(a));
      }
    }

    int32_t limit = tok.bpe_.id_limit();
    for (const auto& [id, text] : outside_alphabet) limit = std::max(limit, id + 1);
    for (const AddedToken& a : added) limit = std::max(limit, a.id + 1);
    tok.vocab_size_ = limit;
    tok.override_of_id_.assign(static_cast<size_t>(limit), -1);
    const auto add_override = [&](int32_t id, TokenOverride o) {
      tok.override_of_id_[static_cast<size_t>(id)] = static_cast<int32_t>(tok.overrides_.size());
      tok.overrides_.push_back(std::move(o));
    };
    for (const auto& [id, text] : outside_alphabet) add_override(id, TokenOverride{id, text, text, false});
    for (const AddedToken& a : added) {
      // The reference's ByteLevel decoder maps an added token's characters
      // through the alphabet when all of them are in it (true for ASCII
      // punctuation and letters), and otherwise emits its UTF-8 as is.
      std::string bytes = alphabet_to_bytes(a.content).value_or(a.content);
      add_override(a.id, TokenOverride{a.id, a.content, std::move(bytes), a.special});
      tok.added_by_content_.emplace_back(a.content, a.id);
    }
    std::vector<AddedToken> raw, normalized;
    for (const AddedToken& a : added) (a.normalized && tok.nfc_ ? normalized : raw).push_back(a);
    tok.raw_added_ = AddedTokenMatcher(std::move(raw));
    tok.normalized_added_ = AddedTokenMatcher(std::move(normalized));
    return tok;
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid tokenizer file " + path + ": " + e.what());
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = utf8_lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<TextSegment> segments;
  raw_added_.split(text, /*skip_special=*/!parse_special, segments);
  for (const TextSegment& segment : segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else {
      encode_plain(segment.text, parse_special, ids);
    }
  }
  return ids;
}

void Tokenizer::encode_plain(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  if (!nfc_) {
    encode_normalized(text, out);
    return;
  }
  const std::string normalized = nfc_normalize(text);
  if (normalized_added_.empty()) {
    encode_normalized(normalized, out);
    return;
  }
  std::vector<TextSegment> segments;
  normalized_added_.split(normalized, !parse_special, segments);
  for (const TextSegment& segment : segments) {
    if (segment.token_id >= 0) {
      out.push_back(segment.token_id);
    } else {
      encode_normalized(segment.text, out);
    }
  }
}

void Tokenizer::encode_normalized(std::string_view text, std::vector<int32_t>& out) const {
  thread_local std::vector<std::string_view> pieces;
  pieces.clear();
  splitter_.split(text, pieces);
  for (const std::string_view piece : pieces) {
    if (ignore_merges_) {
      const int32_t whole = bpe_.id_of_bytes(piece);
      if (whole >= 0) {
        out.push_back(whole);
        continue;
      }
    }
    bpe_.encode_piece(piece, out);
  }
}

std::string_view Tokenizer::token_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || id >= vocab_size_) return {};
  const int32_t o = override_of_id_[static_cast<size_t>(id)];
  if (o >= 0) {
    const TokenOverride& token = overrides_[static_cast<size_t>(o)];
    return skip_special && token.special ? std::string_view() : std::string_view(token.bytes);
  }
  return bpe_.token_bytes(id);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string bytes;
  bytes.reserve(ids.size() * 4);
  for (const int32_t id : ids) bytes.append(token_bytes(id, skip_special));
  return utf8_lossy(bytes);
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  for (const auto& [content, id] : added_by_content_)
    if (content == token) return id;
  if (const auto bytes = alphabet_to_bytes(token)) {
    const int32_t id = bpe_.id_of_bytes(*bytes);
    if (id >= 0) return id;
  }
  for (const TokenOverride& o : overrides_)
    if (o.text == token) return o.id;
  return -1;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (id >= 0 && id < vocab_size_) {
    const int32_t o = override_of_id_[static_cast<size_t>(id)];
    if (o >= 0) return overrides_[static_cast<size_t>(o)].text;
    if (!bpe_.token_bytes(id).empty()) return bytes_to_alphabet(bpe_.token_bytes(id));
  }
  throw Error("token id " + std::to_string(id) + " is not in the vocabulary");
}

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab_size_) return false;
  const int32_t o = override_of_id_[static_cast<size_t>(id)];
  return o >= 0 && overrides_[static_cast<size_t>(o)].special;
}

std::string StreamDecoder::put(int32_t id) {
  pending_.append(tokenizer_->token_bytes(id, skip_special_));
  const size_t complete = utf8_complete_prefix_length(pending_);
  if (complete == 0) return {};
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace qwen3vl
