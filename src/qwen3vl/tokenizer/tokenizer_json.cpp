#include "qwen3vl/tokenizer/tokenizer_json.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {
namespace {

// Builds a DOM for everything but model.vocab / model.merges, which go to flat vectors.
class Reader final : public nlohmann::json_sax<Json> {
 public:
  explicit Reader(TokenizerJson& out) : out_(out) {}
  std::string error;

  bool null() override { return scalar(Json(nullptr)); }
  bool boolean(bool v) override { return scalar(Json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == Mode::kVocab) return vocab_entry(v);
    return scalar(Json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == Mode::kVocab) return vocab_entry(static_cast<int64_t>(v));
    return scalar(Json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return scalar(Json(v)); }
  bool binary(binary_t&) override { return fail("unexpected binary value"); }

  bool string(string_t& v) override {
    if (mode_ == Mode::kMerges) {
      if (merge_depth_ == 0) {  // "left right"
        const size_t space = v.find(' ');
        if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos)
          return fail("merge '" + v + "' is not two tokens separated by one space");
        out_.merges.emplace_back(v.substr(0, space), v.substr(space + 1));
        return true;
      }
      if (merge_depth_ == 1) {  // ["left", "right"]
        if (merge_parts_ == 0) out_.merges.emplace_back(std::move(v), std::string());
        else if (merge_parts_ == 1) out_.merges.back().second = std::move(v);
        else return fail("a merge pair has more than two tokens");
        ++merge_parts_;
        return true;
      }
      return fail("malformed model.merges");
    }
    if (mode_ == Mode::kVocab) return fail("model.vocab values must be integer ids");
    return scalar(Json(std::move(v)));
  }

  bool key(string_t& k) override {
    if (mode_ == Mode::kVocab) {
      vocab_key_ = std::move(k);
      return true;
    }
    keys_.back() = std::move(k);
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ != Mode::kDom) return fail("unexpected object inside model.vocab/merges");
    if (at_model_member("vocab")) {
      mode_ = Mode::kVocab;
      return true;
    }
    stack_.push_back(Json::object());
    names_.push_back(stack_.size() == 1 ? std::string() : keys_.back());
    keys_.emplace_back();
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    return close();
  }
  bool start_array(std::size_t) override {
    if (mode_ == Mode::kMerges) {
      if (++merge_depth_ > 1) return fail("malformed model.merges");
      merge_parts_ = 0;
      return true;
    }
    if (mode_ == Mode::kVocab) return fail("unexpected array inside model.vocab");
    if (at_model_member("merges")) {
      mode_ = Mode::kMerges;
      merge_depth_ = 0;
      return true;
    }
    stack_.push_back(Json::array());
    names_.push_back(stack_.size() == 1 ? std::string() : keys_.back());
    keys_.emplace_back();
    return true;
  }
  bool end_array() override {
    if (mode_ == Mode::kMerges) {
      if (merge_depth_ == 1) {
        if (merge_parts_ != 2) return fail("a merge pair does not have two tokens");
        merge_depth_ = 0;
        return true;
      }
      mode_ = Mode::kDom;
      return true;
    }
    return close();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  enum class Mode { kDom, kVocab, kMerges };

  bool fail(const std::string& message) {
    error = message;
    return false;
  }
  // True when the container about to open is root.model.<member>.
  bool at_model_member(const char* member) const {
    return stack_.size() == 2 && stack_[1].is_object() && names_[1] == "model" && keys_.back() == member;
  }
  bool vocab_entry(int64_t id) {
    if (id < 0 || id > INT32_MAX) return fail("model.vocab id out of range for '" + vocab_key_ + "'");
    out_.vocab.emplace_back(std::move(vocab_key_), static_cast<int32_t>(id));
    return true;
  }
  bool scalar(Json value) {
    if (mode_ != Mode::kDom) return fail("unexpected value inside model.vocab/merges");
    add(std::move(value));
    return true;
  }
  void add(Json value) {
    if (stack_.empty()) {
      out_.config = std::move(value);
    } else if (stack_.back().is_object()) {
      stack_.back()[keys_.back()] = std::move(value);
    } else {
      stack_.back().push_back(std::move(value));
    }
  }
  bool close() {
    Json done = std::move(stack_.back());
    stack_.pop_back();
    names_.pop_back();
    keys_.pop_back();
    add(std::move(done));
    return true;
  }

  TokenizerJson& out_;
  Mode mode_ = Mode::kDom;
  std::vector<Json> stack_;         // open containers
  std::vector<std::string> names_;  // key each open container is stored under
  std::vector<std::string> keys_;   // current key inside each open container
  std::string vocab_key_;
  int merge_depth_ = 0;
  int merge_parts_ = 0;
};

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& origin) {
  TokenizerJson out;
  out.vocab.reserve(160000);
  out.merges.reserve(160000);
  Reader reader(out);
  check_json_text_depth(text, "tokenizer file " + origin);
  const bool ok = Json::sax_parse(text.data(), text.data() + text.size(), &reader);
  if (!ok) throw Error("invalid tokenizer file " + origin + ": " + reader.error);
  if (!out.config.is_object()) throw Error("invalid tokenizer file " + origin + ": top level is not an object");
  return out;
}

TokenizerJson read_tokenizer_json(const std::string& path) {
  const MappedFile file(path);
  return parse_tokenizer_json(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()), path);
}

}  // namespace qwen3vl
