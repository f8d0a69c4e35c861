#include "qwen3vl/tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cctype>

#include "qwen3vl/tokenizer/jinja/python_string.h"

namespace qwen3vl::jinja {
namespace {

// Jinja normalises every newline style to "\n" and, with
// keep_trailing_newline=False, drops one final newline.
std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& origin) : source_(normalize_newlines(source)), origin_(origin) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < source_.size(); ++i)
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;  // Jinja's notion: the last consumed text ended a line
    while (pos < source_.size()) {
      size_t tag = find_tag(pos);
      std::string text = source_.substr(pos, tag - pos);
      if (tag == source_.size()) {
        emit_text(text, pos);
        break;
      }
      char kind = source_[tag + 1];  // '{', '%' or '#'
      char sign = tag + 2 < source_.size() ? source_[tag + 2] : '\0';
      if (sign == '-') {
        text = python_strip(text, std::nullopt, StripSide::Right);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: only whitespace between the line start and the tag.
        size_t line_start = text.rfind('\n');
        line_start = line_start == std::string::npos ? 0 : line_start + 1;
        if ((line_start > 0 || line_starting) && line_start < text.size() &&
            std::all_of(text.begin() + line_start, text.end(),
                        [](char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }))
          text.erase(line_start);
      }
      emit_text(text, pos);
      size_t after_open = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(tag, after_open);
      } else {
        pos = lex_tag(kind, tag, after_open);
      }
      line_starting = pos > 0 && source_[pos - 1] == '\n';
    }
    tokens_.push_back(Token{Token::Type::End, "", position_of(source_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePosition position_of(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line_index = static_cast<size_t>(it - line_starts_.begin()) - 1;
    return SourcePosition{static_cast<int>(line_index) + 1, static_cast<int>(offset - line_starts_[line_index]) + 1};
  }

  [[noreturn]] void fail(size_t offset, const std::string& message) const {
    throw_template_error(origin_, position_of(offset), message);
  }

  size_t find_tag(size_t from) const {
    size_t pos = from;
    while (true) {
      pos = source_.find('{', pos);
      if (pos == std::string::npos || pos + 1 >= source_.size()) return source_.size();
      char next = source_[pos + 1];
      if (next == '{' || next == '%' || next == '#') return pos;
      ++pos;
    }
  }

  void emit_text(const std::string& text, size_t offset) {
    if (!text.empty()) tokens_.push_back(Token{Token::Type::Text, text, position_of(offset)});
  }

  // After a tag's end: `-` eats all following whitespace, otherwise
  // trim_blocks eats one newline (block and comment tags only).
  size_t skip_after_tag_end(size_t pos, char sign, bool trim_newline) const {
    if (sign == '-') {
      while (pos < source_.size()) {
        size_t next = pos;
        if (!python_is_space(decode_utf8_at(source_, next))) break;
        pos = next;
      }
    } else if (sign != '+' && trim_newline && pos < source_.size() && source_[pos] == '\n') {
      ++pos;
    }
    return pos;
  }

  size_t lex_comment(size_t tag, size_t after_open) {
    size_t end = source_.find("#}", after_open);
    if (end == std::string::npos) fail(tag, "unterminated comment: missing '#}'");
    char sign = end > after_open && (source_[end - 1] == '-' || source_[end - 1] == '+') ? source_[end - 1] : '\0';
    return skip_after_tag_end(end + 2, sign, true);
  }

  size_t lex_tag(char kind, size_t tag, size_t pos) {
    const bool is_block = kind == '%';
    tokens_.push_back(Token{is_block ? Token::Type::BlockBegin : Token::Type::VariableBegin, "", position_of(tag)});
    const char closer = is_block ? '%' : '}';
    std::vector<char> brackets;  // end delimiters only count outside (), [], {}
    while (true) {
      while (pos < source_.size() && std::isspace(static_cast<unsigned char>(source_[pos]))) ++pos;
      if (pos >= source_.size())
        fail(tag, std::string("unterminated tag: missing '") + closer + "}'");
      if (brackets.empty()) {
        char sign = source_[pos];
        size_t delimiter = (sign == '-' || sign == '+') ? pos + 1 : pos;
        if (delimiter + 1 < source_.size() && source_[delimiter] == closer && source_[delimiter + 1] == '}' &&
            (delimiter == pos || is_block || sign == '-')) {
          tokens_.push_back(Token{is_block ? Token::Type::BlockEnd : Token::Type::VariableEnd, "", position_of(pos)});
          return skip_after_tag_end(delimiter + 2, delimiter == pos ? '\0' : sign, is_block);
        }
      }
      pos = lex_expression_token(pos, brackets);
    }
  }

  size_t lex_expression_token(size_t pos, std::vector<char>& brackets) {
    const size_t start = pos;
    const char c = source_[pos];
    if (is_name_start(c)) {
      while (pos < source_.size() && is_name_char(source_[pos])) ++pos;
      tokens_.push_back(Token{Token::Type::Name, source_.substr(start, pos - start), position_of(start)});
      return pos;
    }
    if (is_digit(c)) return lex_number(pos);
    if (c == '\'' || c == '"') return lex_string(pos);
    static const char* const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                             ">",  "=",  ".",  ",",  ":",  "|",  "(", ")", "[", "]", "{", "}"};
    for (const char* op : kOperators) {
      size_t length = std::char_traits<char>::length(op);
      if (source_.compare(pos, length, op) != 0) continue;
      if (length == 1) {
        if (c == '(' || c == '[' || c == '{') brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        if (c == ')' || c == ']' || c == '}') {
          if (brackets.empty() || brackets.back() != c) fail(pos, std::string("unexpected '") + c + "'");
          brackets.pop_back();
        }
      }
      tokens_.push_back(Token{Token::Type::Operator, op, position_of(start)});
      return pos + length;
    }
    fail(pos, std::string("unexpected character '") + c + "'");
  }

  size_t lex_number(size_t pos) {
    const size_t start = pos;
    auto digits = [&] {
      while (pos < source_.size() && (is_digit(source_[pos]) || source_[pos] == '_')) ++pos;
    };
    digits();
    bool is_float = false;
    // `foo.0.1` is two subscripts, not a float: only a number not preceded by
    // '.' may have a fraction.
    bool after_dot = !tokens_.empty() && tokens_.back().type == Token::Type::Operator && tokens_.back().text == ".";
    if (!after_dot && pos + 1 < source_.size() && source_[pos] == '.' && is_digit(source_[pos + 1])) {
      ++pos;
      digits();
      is_float = true;
    }
    if (!after_dot && pos < source_.size() && (source_[pos] == 'e' || source_[pos] == 'E')) {
      size_t exponent = pos + 1;
      if (exponent < source_.size() && (source_[exponent] == '+' || source_[exponent] == '-')) ++exponent;
      if (exponent < source_.size() && is_digit(source_[exponent])) {
        pos = exponent;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = start; i < pos; ++i)
      if (source_[i] != '_') text += source_[i];
    tokens_.push_back(Token{is_float ? Token::Type::Float : Token::Type::Integer, text, position_of(start)});
    return pos;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Python string-literal escapes, as Jinja applies them.
  size_t lex_string(size_t pos) {
    const size_t start = pos;
    const char quote = source_[pos++];
    std::string value;
    while (true) {
      if (pos >= source_.size()) fail(start, "unterminated string literal");
      char c = source_[pos];
      if (c == quote) {
        ++pos;
        break;
      }
      if (c != '\\') {
        value += c;
        ++pos;
        continue;
      }
      if (pos + 1 >= source_.size()) fail(start, "unterminated string literal");
      char e = source_[pos + 1];
      pos += 2;
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t code = 0;
          for (size_t k = 0; k < count; ++k) {
            int h = pos + k < source_.size() ? hex_value(source_[pos + k]) : -1;
            if (h < 0) fail(pos - 2, std::string("invalid \\") + e + " escape in string literal");
            code = code * 16 + static_cast<uint32_t>(h);
          }
          if (code > 0x10FFFF) fail(pos - 2, "invalid unicode escape in string literal");
          pos += count;
          append_utf8(value, code);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t code = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && pos < source_.size() && source_[pos] >= '0' && source_[pos] <= '7'; ++k)
              code = code * 8 + static_cast<uint32_t>(source_[pos++] - '0');
            append_utf8(value, code);
          } else {
            value += '\\';  // unknown escapes stay as written, as in Python
            value += e;
          }
      }
    }
    tokens_.push_back(Token{Token::Type::String, value, position_of(start)});
    return pos;
  }

  std::string source_;
  std::string origin_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize_template(const std::string& source, const std::string& origin) {
  return Lexer(source, origin).run();
}

}  // namespace qwen3vl::jinja
