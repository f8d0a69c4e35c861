// The dynamic value a Jinja template computes with. It follows Python's data
// model closely enough that chat templates written against Jinja2 behave the
// same: ints and floats stay distinct, dicts keep insertion order (tojson
// output depends on it), and an undefined value is falsy, renders empty and
// iterates as an empty sequence, exactly like Jinja2's default Undefined.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qwen3vl::jinja {

class Value;
using List = std::vector<Value>;
struct Dict;
struct CallArguments;

// A function the template can call: builtins (range, namespace,
// raise_exception, ...) and macros defined by the template.
struct Callable {
  std::string name;
  std::function<Value(CallArguments&)> invoke;
};

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

  Value() = default;  // undefined without a name
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int i) : kind_(Kind::Int), int_(i) {}
  Value(int64_t i) : kind_(Kind::Int), int_(i) {}
  Value(double f) : kind_(Kind::Float), float_(f) {}
  Value(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Value(const char* s) : kind_(Kind::String), string_(s) {}
  Value(List list);
  Value(Dict dict);

  // `hint` names what was looked up, for the error raised when it is used.
  static Value undefined(std::string hint);
  static Value none();
  // MarkupSafe's Markup (from `|safe` / `|escape`): a string that, when
  // added to a plain string with `+`, HTML-escapes the plain side, as Jinja2
  // does even with autoescape off. Templates that write `x|tojson|safe` and
  // then `'<tag>' + x` really get "&lt;tag&gt;" from transformers.
  static Value markup(std::string text);
  bool is_markup() const { return kind_ == Kind::String && is_markup_; }
  // A Python tuple: a list that prints as "(a, b)" and never equals a list.
  static Value tuple(List items);
  static Value make_namespace(Dict attributes);
  static Value make_callable(std::string name, std::function<Value(CallArguments&)> invoke);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  // Python counts bool as a number; callers that care check is_bool first.
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_tuple() const { return kind_ == Kind::List && is_tuple_; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_callable() const { return kind_ == Kind::Callable; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // also valid for Bool
  double as_double() const { return kind_ == Kind::Float ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return string_; }
  const std::string& undefined_hint() const { return string_; }
  const List& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }  // Dict and Namespace
  Dict& namespace_attributes() const { return *dict_; }
  const Callable& as_callable() const { return *callable_; }

  // Python truthiness.
  bool truthy() const;
  // Python `==` (1 == 1.0 == True; undefined equals only undefined).
  bool equals(const Value& other) const;
  // The type name Python would print in an error message.
  std::string type_name() const;

 private:
  Kind kind_ = Kind::Undefined;
  bool is_tuple_ = false;
  bool is_markup_ = false;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string string_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Callable> callable_;
};

// An insertion-ordered string-keyed map, like a Python dict from JSON.
// Lookups are linear: chat-template dicts are small.
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;

  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  void set(const std::string& key, Value value);
  size_t size() const { return entries.size(); }
};

struct CallArguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

}  // namespace qwen3vl::jinja
