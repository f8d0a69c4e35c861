#include "qwen3vl/tokenizer/jinja/parser.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "qwen3vl/tokenizer/jinja/builtins.h"

namespace qwen3vl::jinja {
namespace {

// Deep nesting is only ever hostile; refusing it keeps the recursive descent
// (and the recursive interpreter) far from the stack limit.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& origin) : tokens_(tokens), origin_(origin) {}

  Body parse_all() {
    std::string end_tag;
    Body body = parse_body({}, end_tag);
    return body;
  }

 private:
  using Type = Token::Type;

  const Token& current() const { return tokens_[index_]; }
  const Token& peek(size_t ahead = 1) const {
    size_t k = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[k];
  }
  const Token& advance() {
    const Token& token = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }

  [[noreturn]] void fail(const Token& token, const std::string& message) const {
    throw_template_error(origin_, token.position, message);
  }

  static std::string describe(const Token& token) {
    switch (token.type) {
      case Type::Text: return "text";
      case Type::VariableBegin: return "'{{'";
      case Type::VariableEnd: return "'}}'";
      case Type::BlockBegin: return "'{%'";
      case Type::BlockEnd: return "'%}'";
      case Type::Name: return "'" + token.text + "'";
      case Type::String: return "string literal";
      case Type::Integer:
      case Type::Float: return "number " + token.text;
      case Type::Operator: return "'" + token.text + "'";
      case Type::End: return "end of template";
    }
    return "token";
  }

  bool at_operator(const char* op) const { return current().type == Type::Operator && current().text == op; }
  bool at_name(const char* name) const { return current().type == Type::Name && current().text == name; }

  void expect_operator(const char* op) {
    if (!at_operator(op)) fail(current(), std::string("expected '") + op + "', found " + describe(current()));
    advance();
  }
  std::string expect_name(const char* what) {
    if (current().type != Type::Name) fail(current(), std::string("expected ") + what + ", found " + describe(current()));
    return advance().text;
  }
  void expect_block_end(const std::string& tag) {
    if (current().type != Type::BlockEnd)
      fail(current(), "expected end of '" + tag + "' tag ('%}'), found " + describe(current()));
    advance();
  }

  struct DepthGuard {
    DepthGuard(Parser& parser, const Token& token) : parser_(parser) {
      if (++parser_.depth_ > kMaxNesting) parser_.fail(token, "template nested too deeply");
    }
    ~DepthGuard() { --parser_.depth_; }
    Parser& parser_;
  };

  // ---- statements -------------------------------------------------------

  // Parses until one of `end_tags` opens a block (that tag's name is left in
  // `end_tag`, the token after it is current) or, with no end tags, to the end.
  Body parse_body(std::initializer_list<const char*> end_tags, std::string& end_tag) {
    Body body;
    while (true) {
      const Token& token = current();
      switch (token.type) {
        case Type::End:
          if (end_tags.size() != 0) {
            std::string wanted;
            for (const char* tag : end_tags) wanted += (wanted.empty() ? "'" : " or '") + std::string(tag) + "'";
            fail(token, "unexpected end of template: expected " + wanted);
          }
          return body;
        case Type::Text: {
          auto statement = std::make_unique<Statement>();
          statement->kind = Statement::Kind::Text;
          statement->position = token.position;
          statement->text = token.text;
          body.push_back(std::move(statement));
          advance();
          break;
        }
        case Type::VariableBegin: {
          auto statement = std::make_unique<Statement>();
          statement->kind = Statement::Kind::Output;
          statement->position = token.position;
          advance();
          statement->expression = parse_tuple_expression();
          if (current().type != Type::VariableEnd) fail(current(), "expected '}}', found " + describe(current()));
          advance();
          body.push_back(std::move(statement));
          break;
        }
        case Type::BlockBegin: {
          const Token& tag = peek();
          if (tag.type != Type::Name) fail(tag, "expected a tag name after '{%', found " + describe(tag));
          for (const char* end : end_tags) {
            if (tag.text == end) {
              advance();
              advance();
              end_tag = end;
              return body;
            }
          }
          if (tag.text.rfind("end", 0) == 0 || tag.text == "else" || tag.text == "elif") {
            std::string message = "unexpected '" + tag.text + "'";
            if (end_tags.size() != 0) {
              message += ": expected ";
              bool first = true;
              for (const char* end : end_tags) {
                message += (first ? "'" : " or '") + std::string(end) + "'";
                first = false;
              }
            }
            fail(tag, message);
          }
          body.push_back(parse_statement());
          break;
        }
        default:
          fail(token, "unexpected " + describe(token));
      }
    }
  }

  StatementPtr parse_statement() {
    const Token& begin = advance();  // '{%'
    DepthGuard guard(*this, begin);
    const Token& tag = advance();
    auto statement = std::make_unique<Statement>();
    statement->position = tag.position;
    const std::string& name = tag.text;
    if (name == "if") return parse_if(std::move(statement));
    if (name == "for") return parse_for(std::move(statement));
    if (name == "set") return parse_set(std::move(statement));
    if (name == "macro") return parse_macro(std::move(statement));
    if (name == "break" || name == "continue") {
      statement->kind = name == "break" ? Statement::Kind::Break : Statement::Kind::Continue;
      expect_block_end(name);
      return statement;
    }
    if (name == "generation") {
      statement->kind = Statement::Kind::Group;
      expect_block_end(name);
      std::string end_tag;
      statement->body = parse_body({"endgeneration"}, end_tag);
      expect_block_end(end_tag);
      return statement;
    }
    static const char* const kUnsupported[] = {"call", "filter", "include", "import", "from", "extends", "block",
                                               "raw", "with", "do", "autoescape", "trans"};
    for (const char* unsupported : kUnsupported)
      if (name == unsupported) fail(tag, "unsupported tag '" + name + "'");
    fail(tag, "unknown tag '" + name + "'");
  }

  StatementPtr parse_if(StatementPtr statement) {
    statement->kind = Statement::Kind::If;
    while (true) {
      ExpressionPtr condition = parse_expression();
      expect_block_end("if");
      std::string end_tag;
      Body body = parse_body({"elif", "else", "endif"}, end_tag);
      statement->branches.emplace_back(std::move(condition), std::move(body));
      if (end_tag == "elif") continue;
      if (end_tag == "else") {
        expect_block_end("else");
        statement->else_body = parse_body({"endif"}, end_tag);
      }
      expect_block_end("endif");
      return statement;
    }
  }

  StatementPtr parse_for(StatementPtr statement) {
    statement->kind = Statement::Kind::For;
    bool parenthesized = at_operator("(");
    if (parenthesized) advance();
    statement->targets.push_back(expect_name("a loop variable"));
    while (at_operator(",")) {
      advance();
      if (at_name("in") || at_operator(")")) break;
      statement->targets.push_back(expect_name("a loop variable"));
    }
    if (parenthesized) expect_operator(")");
    if (!at_name("in")) fail(current(), "expected 'in' in for loop, found " + describe(current()));
    advance();
    statement->expression = parse_tuple_expression(/*allow_conditional=*/false);
    if (at_name("if")) {
      advance();
      statement->condition = parse_expression();
    }
    if (at_name("recursive")) fail(current(), "recursive for loops are not supported");
    expect_block_end("for");
    std::string end_tag;
    statement->body = parse_body({"else", "endfor"}, end_tag);
    if (end_tag == "else") {
      expect_block_end("else");
      statement->else_body = parse_body({"endfor"}, end_tag);
    }
    expect_block_end("endfor");
    return statement;
  }

  StatementPtr parse_set(StatementPtr statement) {
    statement->targets.push_back(expect_name("a variable name"));
    if (at_operator(".")) {
      advance();
      statement->attribute = expect_name("an attribute name");
    } else {
      while (at_operator(",")) {
        advance();
        statement->targets.push_back(expect_name("a variable name"));
      }
    }
    if (at_operator("=")) {
      advance();
      statement->kind = Statement::Kind::Set;
      statement->expression = parse_tuple_expression();
      expect_block_end("set");
      return statement;
    }
    if (!statement->attribute.empty() || statement->targets.size() != 1)
      fail(current(), "expected '=' in set, found " + describe(current()));
    statement->kind = Statement::Kind::SetBlock;
    expect_block_end("set");
    std::string end_tag;
    statement->body = parse_body({"endset"}, end_tag);
    expect_block_end("endset");
    return statement;
  }

  StatementPtr parse_macro(StatementPtr statement) {
    statement->kind = Statement::Kind::Macro;
    statement->name = expect_name("a macro name");
    expect_operator("(");
    while (!at_operator(")")) {
      std::string parameter = expect_name("a parameter name");
      ExpressionPtr default_value;
      if (at_operator("=")) {
        advance();
        default_value = parse_expression();
      }
      statement->parameters.emplace_back(parameter, std::move(default_value));
      if (!at_operator(",")) break;
      advance();
    }
    expect_operator(")");
    expect_block_end("macro");
    std::string end_tag;
    statement->body = parse_body({"endmacro"}, end_tag);
    if (current().type == Type::Name) advance();  // {% endmacro name %}
    expect_block_end("endmacro");
    return statement;
  }

  // ---- expressions ------------------------------------------------------

  ExpressionPtr make(Expression::Kind kind, SourcePosition position) {
    auto expression = std::make_unique<Expression>();
    expression->kind = kind;
    expression->position = position;
    return expression;
  }

  // `a, b` without brackets is a tuple (in {{ }}, set values and for iterables).
  ExpressionPtr parse_tuple_expression(bool allow_conditional = true) {
    SourcePosition position = current().position;
    ExpressionPtr first = parse_expression(allow_conditional);
    if (!at_operator(",")) return first;
    auto tuple = make(Expression::Kind::Tuple, position);
    tuple->operands.push_back(std::move(first));
    while (at_operator(",")) {
      advance();
      if (current().type == Type::BlockEnd || current().type == Type::VariableEnd || at_name("if")) break;
      tuple->operands.push_back(parse_expression(allow_conditional));
    }
    return tuple;
  }

  ExpressionPtr parse_expression(bool allow_conditional = true) {
    DepthGuard guard(*this, current());
    ExpressionPtr value = parse_or();
    while (allow_conditional && at_name("if")) {
      SourcePosition position = advance().position;
      auto conditional = make(Expression::Kind::Conditional, position);
      ExpressionPtr condition = parse_or();
      ExpressionPtr otherwise;
      if (at_name("else")) {
        advance();
        otherwise = parse_expression();
      }
      conditional->operands.push_back(std::move(value));
      conditional->operands.push_back(std::move(condition));
      conditional->operands.push_back(std::move(otherwise));
      value = std::move(conditional);
    }
    return value;
  }

  ExpressionPtr binary(const std::string& op, ExpressionPtr left, ExpressionPtr right, SourcePosition position) {
    auto node = make(Expression::Kind::Binary, position);
    node->name = op;
    node->operands.push_back(std::move(left));
    node->operands.push_back(std::move(right));
    return node;
  }

  ExpressionPtr parse_or() {
    ExpressionPtr left = parse_and();
    while (at_name("or")) {
      SourcePosition position = advance().position;
      left = binary("or", std::move(left), parse_and(), position);
    }
    return left;
  }

  ExpressionPtr parse_and() {
    ExpressionPtr left = parse_not();
    while (at_name("and")) {
      SourcePosition position = advance().position;
      left = binary("and", std::move(left), parse_not(), position);
    }
    return left;
  }

  ExpressionPtr parse_not() {
    if (at_name("not")) {
      DepthGuard guard(*this, current());
      SourcePosition position = advance().position;
      auto node = make(Expression::Kind::Unary, position);
      node->name = "not";
      node->operands.push_back(parse_not());
      return node;
    }
    return parse_compare();
  }

  ExpressionPtr parse_compare() {
    SourcePosition position = current().position;
    ExpressionPtr first = parse_math1();
    ExpressionPtr compare;
    while (true) {
      std::string op;
      if (current().type == Type::Operator &&
          (current().text == "==" || current().text == "!=" || current().text == "<" || current().text == ">" ||
           current().text == "<=" || current().text == ">=")) {
        op = advance().text;
      } else if (at_name("in")) {
        advance();
        op = "in";
      } else if (at_name("not") && peek().type == Type::Name && peek().text == "in") {
        advance();
        advance();
        op = "not in";
      } else {
        break;
      }
      if (!compare) {
        compare = make(Expression::Kind::Compare, position);
        compare->operands.push_back(std::move(first));
      }
      compare->ops.push_back(op);
      compare->operands.push_back(parse_math1());
    }
    return compare ? std::move(compare) : std::move(first);
  }

  template <typename Next>
  ExpressionPtr parse_left_associative(std::initializer_list<const char*> ops, Next next) {
    ExpressionPtr left = (this->*next)();
    while (true) {
      const char* matched = nullptr;
      for (const char* op : ops)
        if (at_operator(op)) matched = op;
      if (!matched) return left;
      SourcePosition position = advance().position;
      left = binary(matched, std::move(left), (this->*next)(), position);
    }
  }

  ExpressionPtr parse_math1() { return parse_left_associative({"+", "-"}, &Parser::parse_concat); }
  ExpressionPtr parse_concat() { return parse_left_associative({"~"}, &Parser::parse_math2); }
  ExpressionPtr parse_math2() { return parse_left_associative({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExpressionPtr parse_pow() { return parse_left_associative({"**"}, &Parser::parse_unary_filtered); }
  ExpressionPtr parse_unary_filtered() { return parse_unary(true); }

  ExpressionPtr parse_unary(bool with_filters) {
    DepthGuard guard(*this, current());
    ExpressionPtr node;
    if (at_operator("-") || at_operator("+")) {
      const Token& op = advance();
      node = make(Expression::Kind::Unary, op.position);
      node->name = op.text;
      node->operands.push_back(parse_unary(false));
    } else {
      node = parse_postfix(parse_primary());
    }
    if (with_filters) node = parse_filters_and_tests(std::move(node));
    return node;
  }

  ExpressionPtr parse_primary() {
    const Token& token = current();
    switch (token.type) {
      case Type::Name: {
        advance();
        auto node = make(Expression::Kind::Literal, token.position);
        if (token.text == "true" || token.text == "True") node->literal = Value(true);
        else if (token.text == "false" || token.text == "False") node->literal = Value(false);
        else if (token.text == "none" || token.text == "None") node->literal = Value::none();
        else {
          node->kind = Expression::Kind::Name;
          node->name = token.text;
        }
        return node;
      }
      case Type::String: {
        auto node = make(Expression::Kind::Literal, token.position);
        std::string text;
        while (current().type == Type::String) text += advance().text;  // 'a' 'b' concatenates
        node->literal = Value(std::move(text));
        return node;
      }
      case Type::Integer: {
        advance();
        auto node = make(Expression::Kind::Literal, token.position);
        int64_t value = 0;
        auto result = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
        if (result.ec != std::errc()) fail(token, "integer literal too large: " + token.text);
        node->literal = Value(value);
        return node;
      }
      case Type::Float: {
        advance();
        auto node = make(Expression::Kind::Literal, token.position);
        node->literal = Value(std::strtod(token.text.c_str(), nullptr));
        return node;
      }
      case Type::Operator:
        if (token.text == "(") return parse_parenthesized();
        if (token.text == "[") return parse_list();
        if (token.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    fail(token, "unexpected " + describe(token) + " in expression");
  }

  ExpressionPtr parse_parenthesized() {
    SourcePosition position = advance().position;
    if (at_operator(")")) {
      advance();
      return make(Expression::Kind::Tuple, position);  // () is an empty tuple
    }
    ExpressionPtr first = parse_expression();
    if (at_operator(")")) {
      advance();
      return first;
    }
    auto tuple = make(Expression::Kind::Tuple, position);
    tuple->operands.push_back(std::move(first));
    while (at_operator(",")) {
      advance();
      if (at_operator(")")) break;
      tuple->operands.push_back(parse_expression());
    }
    expect_operator(")");
    return tuple;
  }

  ExpressionPtr parse_list() {
    auto list = make(Expression::Kind::List, advance().position);
    while (!at_operator("]")) {
      list->operands.push_back(parse_expression());
      if (!at_operator(",")) break;
      advance();
    }
    expect_operator("]");
    return list;
  }

  ExpressionPtr parse_dict() {
    auto dict = make(Expression::Kind::Dict, advance().position);
    while (!at_operator("}")) {
      dict->operands.push_back(parse_expression());
      expect_operator(":");
      dict->operands.push_back(parse_expression());
      if (!at_operator(",")) break;
      advance();
    }
    expect_operator("}");
    return dict;
  }

  ExpressionPtr parse_postfix(ExpressionPtr node) {
    while (true) {
      if (at_operator(".")) {
        SourcePosition position = advance().position;
        if (current().type == Type::Integer) {  // foo.0 is foo[0]
          auto subscript = make(Expression::Kind::Subscript, position);
          subscript->operands.push_back(std::move(node));
          subscript->operands.push_back(parse_primary());
          node = std::move(subscript);
          continue;
        }
        auto attribute = make(Expression::Kind::Attribute, position);
        attribute->name = expect_name("an attribute name");
        attribute->operands.push_back(std::move(node));
        node = std::move(attribute);
      } else if (at_operator("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExpressionPtr parse_subscript(ExpressionPtr object) {
    SourcePosition position = advance().position;  // '['
    ExpressionPtr parts[3];
    int colons = 0;
    while (true) {
      if (at_operator(":")) {
        if (++colons > 2) fail(current(), "too many ':' in slice");
        advance();
        continue;
      }
      if (at_operator("]")) break;
      if (parts[colons]) fail(current(), "expected ':' or ']', found " + describe(current()));
      parts[colons] = parse_expression();
    }
    advance();  // ']'
    if (colons == 0) {
      if (!parts[0]) fail(current(), "empty subscript");
      auto subscript = make(Expression::Kind::Subscript, position);
      subscript->operands.push_back(std::move(object));
      subscript->operands.push_back(std::move(parts[0]));
      return subscript;
    }
    auto slice = make(Expression::Kind::Slice, position);
    slice->operands.push_back(std::move(object));
    for (auto& part : parts) slice->operands.push_back(std::move(part));
    return slice;
  }

  void parse_arguments(Expression& call) {
    expect_operator("(");
    while (!at_operator(")")) {
      if (at_operator("*") || at_operator("**")) fail(current(), "*args and **kwargs are not supported");
      if (current().type == Type::Name && peek().type == Type::Operator && peek().text == "=") {
        std::string keyword = advance().text;
        advance();
        call.keywords.emplace_back(keyword, parse_expression());
      } else {
        if (!call.keywords.empty()) fail(current(), "positional argument follows keyword argument");
        call.operands.push_back(parse_expression());
      }
      if (!at_operator(",")) break;
      advance();
    }
    expect_operator(")");
  }

  ExpressionPtr parse_call(ExpressionPtr callee) {
    auto call = make(Expression::Kind::Call, current().position);
    call->operands.push_back(std::move(callee));
    parse_arguments(*call);
    return call;
  }

  ExpressionPtr parse_filters_and_tests(ExpressionPtr node) {
    while (true) {
      if (at_operator("|")) {
        advance();
        const Token& name_token = current();
        auto filter = make(Expression::Kind::Filter, name_token.position);
        filter->name = expect_name("a filter name");
        if (!is_known_filter(filter->name)) fail(name_token, "unknown filter '" + filter->name + "'");
        filter->operands.push_back(std::move(node));
        if (at_operator("(")) parse_arguments(*filter);
        node = std::move(filter);
      } else if (at_name("is")) {
        advance();
        bool negated = false;
        if (at_name("not")) {
          advance();
          negated = true;
        }
        const Token& name_token = current();
        auto test = make(Expression::Kind::Test, name_token.position);
        test->negated = negated;
        if (name_token.type == Type::Name) {
          test->name = advance().text;
        } else if (name_token.type == Type::Operator &&
                   (name_token.text == "==" || name_token.text == "!=" || name_token.text == "<" ||
                    name_token.text == ">" || name_token.text == "<=" || name_token.text == ">=")) {
          test->name = advance().text;
        } else {
          fail(name_token, "expected a test name, found " + describe(name_token));
        }
        if (!is_known_test(test->name)) fail(name_token, "unknown test '" + test->name + "'");
        test->operands.push_back(std::move(node));
        if (at_operator("(")) {
          parse_arguments(*test);
        } else if (starts_test_argument()) {
          test->operands.push_back(parse_postfix(parse_primary()));  // `x is divisibleby 3`
        }
        node = std::move(test);
      } else if (at_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  bool starts_test_argument() const {
    const Token& token = current();
    if (token.type == Type::Name) {
      static const char* const kStop[] = {"else", "or", "and", "if", "in", "not", "is"};
      for (const char* stop : kStop)
        if (token.text == stop) return false;
      return true;
    }
    return token.type == Type::String || token.type == Type::Integer || token.type == Type::Float ||
           (token.type == Type::Operator && (token.text == "[" || token.text == "{"));
  }

  const std::vector<Token>& tokens_;
  const std::string& origin_;
  size_t index_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens, const std::string& origin) {
  return Parser(tokens, origin).parse_all();
}

}  // namespace qwen3vl::jinja
