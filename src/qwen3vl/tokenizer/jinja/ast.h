// The parsed form of a template: expressions and statements. One node type
// per category keeps the interpreter a pair of switch statements; the
// comments on each Kind say which fields it uses.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qwen3vl/tokenizer/jinja/failure.h"
#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

struct Expression;
using ExpressionPtr = std::unique_ptr<Expression>;
using KeywordArguments = std::vector<std::pair<std::string, ExpressionPtr>>;

struct Expression {
  enum class Kind {
    Literal,      // literal
    Name,         // name
    List,         // operands = items
    Tuple,        // operands = items
    Dict,         // operands = key0, value0, key1, value1, ...
    Attribute,    // operands[0] . name
    Subscript,    // operands[0] [ operands[1] ]
    Slice,        // operands[0] [ operands[1] : operands[2] : operands[3] ] (null when omitted)
    Call,         // operands[0] ( operands[1..], keywords )
    Filter,       // operands[0] | name ( operands[1..], keywords )
    Test,         // operands[0] is [not] name ( operands[1..] ); negated
    Unary,        // name in {"not", "-", "+"}, operands[0]
    Binary,       // operands[0] name operands[1]; name in + - * / // % ** ~ and or
    Compare,      // operands[0] ops[0] operands[1] ops[1] operands[2] ... (chained)
    Conditional,  // operands[0] if operands[1] else operands[2] (null: undefined)
  };
  Kind kind;
  SourcePosition position;
  Value literal;
  std::string name;
  std::vector<ExpressionPtr> operands;
  KeywordArguments keywords;
  std::vector<std::string> ops;
  bool negated = false;
};

struct Statement;
using StatementPtr = std::unique_ptr<Statement>;
using Body = std::vector<StatementPtr>;

struct Statement {
  enum class Kind {
    Text,      // text
    Output,    // {{ expression }}
    If,        // branches (condition, body) ...; else_body
    For,       // for targets in expression [if condition]: body; else_body
    Set,       // targets = expression, or targets[0].attribute = expression
    SetBlock,  // {% set targets[0] %} body {% endset %}
    Macro,     // name(parameters) body
    Break,
    Continue,
    Group,     // body rendered in place ({% generation %} from transformers)
  };
  Kind kind;
  SourcePosition position;
  std::string text;
  std::string name;
  std::string attribute;
  ExpressionPtr expression;
  ExpressionPtr condition;
  std::vector<std::string> targets;
  std::vector<std::pair<ExpressionPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExpressionPtr>> parameters;  // default may be null
};

}  // namespace qwen3vl::jinja
