#include "qwen3vl/tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "qwen3vl/tokenizer/jinja/failure.h"
#include "qwen3vl/tokenizer/jinja/python_string.h"
#include "qwen3vl/tokenizer/jinja/value_format.h"
#include "qwen3vl/tokenizer/jinja/value_json.h"

namespace qwen3vl::jinja {
namespace {

// Binds positional and keyword arguments to a function's parameter names,
// as Python would, rejecting extra or unknown arguments.
class BoundArguments {
 public:
  BoundArguments(const std::string& function, CallArguments& arguments, std::vector<std::string> parameters)
      : values_(parameters.size()), given_(parameters.size(), false) {
    if (arguments.positional.size() > parameters.size())
      throw Failure(function + "() takes at most " + std::to_string(parameters.size()) + " argument(s), " +
                    std::to_string(arguments.positional.size()) + " given");
    for (size_t k = 0; k < arguments.positional.size(); ++k) {
      values_[k] = arguments.positional[k];
      given_[k] = true;
    }
    for (auto& [keyword, value] : arguments.keyword) {
      auto it = std::find(parameters.begin(), parameters.end(), keyword);
      if (it == parameters.end()) throw Failure(function + "() got an unexpected keyword argument '" + keyword + "'");
      size_t k = static_cast<size_t>(it - parameters.begin());
      if (given_[k]) throw Failure(function + "() got multiple values for argument '" + keyword + "'");
      values_[k] = value;
      given_[k] = true;
    }
  }
  bool given(size_t k) const { return given_[k]; }
  const Value& operator[](size_t k) const { return values_[k]; }

 private:
  std::vector<Value> values_;
  std::vector<bool> given_;
};

void require_defined(const Value& value) {
  if (value.is_undefined()) throw Failure(describe_undefined(value));
}

const std::string& require_string(const Value& value, const std::string& what) {
  require_defined(value);
  if (!value.is_string()) throw Failure(what + " must be a string, not " + value.type_name());
  return value.as_string();
}

int64_t require_int(const Value& value, const std::string& what) {
  require_defined(value);
  if (!value.is_int() && !value.is_bool()) throw Failure(what + " must be an integer, not " + value.type_name());
  return value.as_int();
}

std::optional<std::string> optional_string(const BoundArguments& args, size_t k, const std::string& what) {
  if (!args.given(k) || args[k].is_none()) return std::nullopt;
  return require_string(args[k], what);
}

List string_list(std::vector<std::string> parts) {
  List list;
  list.reserve(parts.size());
  for (auto& part : parts) list.emplace_back(std::move(part));
  return list;
}

// Jinja's attribute-or-item lookup used by map/selectattr/join(attribute=).
Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_dict() || object.is_namespace()) {
    if (const Value* found = object.as_dict().find(name)) return *found;
  }
  return Value::undefined("'" + object.type_name() + " object' has no attribute '" + name + "'");
}

std::string to_json(const Value& value, CallArguments& arguments) {
  // transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  BoundArguments args("tojson", arguments, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions options;
  options.ensure_ascii = args.given(0) && args[0].truthy();
  if (args.given(1) && !args[1].is_none()) {
    if (args[1].is_string()) {
      options.indent = args[1].as_string();
    } else {
      int64_t width = require_int(args[1], "tojson indent");
      options.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(width, 0, 64)), ' ');
    }
    options.item_separator = ",";
  }
  if (args.given(2) && !args[2].is_none()) {
    if (!args[2].is_list() || args[2].as_list().size() != 2)
      throw Failure("tojson separators must be a pair of strings");
    options.item_separator = require_string(args[2].as_list()[0], "tojson separator");
    options.key_separator = require_string(args[2].as_list()[1], "tojson separator");
  }
  options.sort_keys = args.given(3) && args[3].truthy();
  return json_dumps(value, options);
}

Value string_to_int(const std::string& text, const Value& fallback, int64_t base) {
  std::string trimmed = python_strip(text, std::nullopt, StripSide::Both);
  std::string digits;
  for (char c : trimmed)
    if (c != '_') digits += c;
  if (!digits.empty()) {
    char* end = nullptr;
    errno = 0;
    long long parsed = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
    if (errno == 0 && end && *end == '\0') return Value(static_cast<int64_t>(parsed));
    double as_float = std::strtod(digits.c_str(), &end);
    if (base == 10 && end && *end == '\0' && std::isfinite(as_float) && std::fabs(as_float) < 9.2e18)
      return Value(static_cast<int64_t>(as_float));
  }
  return fallback;
}

Value filter_int(const Value& input, CallArguments& arguments) {
  BoundArguments args("int", arguments, {"default", "base"});
  Value fallback = args.given(0) ? args[0] : Value(0);
  int64_t base = args.given(1) ? require_int(args[1], "int base") : 10;
  if (input.is_bool() || input.is_int()) return Value(input.as_int());
  if (input.is_float()) {
    double f = input.as_double();
    if (!std::isfinite(f) || std::fabs(f) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(f));
  }
  if (input.is_string()) return string_to_int(input.as_string(), fallback, base);
  return fallback;
}

Value filter_float(const Value& input, CallArguments& arguments) {
  BoundArguments args("float", arguments, {"default"});
  Value fallback = args.given(0) ? args[0] : Value(0.0);
  if (input.is_number()) return Value(input.as_double());
  if (input.is_string()) {
    std::string trimmed = python_strip(input.as_string(), std::nullopt, StripSide::Both);
    char* end = nullptr;
    double parsed = std::strtod(trimmed.c_str(), &end);
    if (!trimmed.empty() && end && *end == '\0') return Value(parsed);
  }
  return fallback;
}

Value filter_join(const Value& input, CallArguments& arguments) {
  BoundArguments args("join", arguments, {"d", "attribute"});
  std::string separator = args.given(0) ? python_str(args[0]) : "";
  std::string out;
  bool first = true;
  for (const Value& item : iterate(input)) {
    if (!first) out += separator;
    first = false;
    if (args.given(1)) out += python_str(get_attribute(item, python_str(args[1])));
    else out += python_str(item);
  }
  return Value(std::move(out));
}

// select/reject/selectattr/rejectattr share one shape: a test applied to
// each item (or one of its attributes), with any extra test arguments.
Value filter_select(const Value& input, CallArguments& arguments, bool by_attribute, bool keep_when) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (arguments.positional.empty()) throw Failure("selectattr/rejectattr need an attribute name");
    attribute = require_string(arguments.positional[next++], "attribute name");
  }
  std::optional<std::string> test;
  if (next < arguments.positional.size()) test = require_string(arguments.positional[next++], "test name");
  if (test && !is_known_test(*test)) throw Failure("unknown test '" + *test + "'");
  CallArguments test_arguments;
  test_arguments.positional.assign(arguments.positional.begin() + static_cast<long>(next), arguments.positional.end());
  List out;
  for (const Value& item : iterate(input)) {
    Value subject = by_attribute ? get_attribute(item, attribute) : item;
    CallArguments copy = test_arguments;
    bool passed = test ? apply_test(*test, subject, copy) : subject.truthy();
    if (passed == keep_when) out.push_back(item);
  }
  return Value(std::move(out));
}

Value filter_map(const Value& input, CallArguments& arguments) {
  List out;
  for (const auto& [keyword, value] : arguments.keyword) {
    if (keyword != "attribute" && keyword != "default") throw Failure("map() got an unexpected keyword '" + keyword + "'");
  }
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [keyword, value] : arguments.keyword) (keyword == "attribute" ? attribute : fallback) = &value;
  if (attribute) {
    std::string name = python_str(*attribute);
    for (const Value& item : iterate(input)) {
      Value found = get_attribute(item, name);
      out.push_back(found.is_undefined() && fallback ? *fallback : found);
    }
    return Value(std::move(out));
  }
  if (arguments.positional.empty()) throw Failure("map() needs a filter name or attribute=");
  std::string filter = require_string(arguments.positional[0], "filter name");
  if (!is_known_filter(filter)) throw Failure("unknown filter '" + filter + "'");
  for (const Value& item : iterate(input)) {
    CallArguments rest;
    rest.positional.assign(arguments.positional.begin() + 1, arguments.positional.end());
    out.push_back(apply_filter(filter, item, rest));
  }
  return Value(std::move(out));
}

Value filter_sort(const Value& input, CallArguments& arguments) {
  BoundArguments args("sort", arguments, {"reverse", "case_sensitive", "attribute"});
  bool reverse = args.given(0) && args[0].truthy();
  bool case_sensitive = args.given(1) && args[1].truthy();
  std::optional<std::string> attribute;
  if (args.given(2)) attribute = python_str(args[2]);
  List items = iterate(input);
  auto key = [&](const Value& item) {
    Value k = attribute ? get_attribute(item, *attribute) : item;
    if (!case_sensitive && k.is_string()) return Value(python_lower(k.as_string()));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return reverse ? python_less(key(b), key(a)) : python_less(key(a), key(b));
  });
  return Value(std::move(items));
}

Value string_characters(const std::string& s) {
  List out;
  for (uint32_t c : utf8_to_code_points(s)) {
    std::string character;
    append_utf8(character, c);
    out.emplace_back(std::move(character));
  }
  return Value(std::move(out));
}

}  // namespace

bool python_less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (x[k].equals(y[k])) continue;
      return python_less(x[k], y[k]);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) throw Failure(describe_undefined(a));
  if (b.is_undefined()) throw Failure(describe_undefined(b));
  throw Failure("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

std::string describe_undefined(const Value& undefined) {
  return undefined.undefined_hint().empty() ? "value is undefined" : undefined.undefined_hint();
}

List iterate(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return value.as_list();
    case Value::Kind::Dict: {
      List keys;
      for (const auto& entry : value.as_dict().entries) keys.emplace_back(entry.first);
      return keys;
    }
    case Value::Kind::String: return string_characters(value.as_string()).as_list();
    default: throw Failure("'" + value.type_name() + "' object is not iterable");
  }
}

int64_t python_len(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return static_cast<int64_t>(python_length(value.as_string()));
    case Value::Kind::List: return static_cast<int64_t>(value.as_list().size());
    case Value::Kind::Dict: return static_cast<int64_t>(value.as_dict().size());
    default: throw Failure("object of type '" + value.type_name() + "' has no len()");
  }
}

namespace {

const std::set<std::string>& filter_names() {
  static const std::set<std::string> names = {
      "tojson", "length", "count", "trim", "upper", "lower", "capitalize", "title", "default", "d",
      "first", "last", "join", "replace", "string", "int", "float", "items", "list", "safe", "abs",
      "reverse", "sort", "map", "select", "reject", "selectattr", "rejectattr", "unique", "min", "max",
      "sum", "attr", "wordcount", "escape", "e"};
  return names;
}

const std::set<std::string>& test_names() {
  static const std::set<std::string> names = {
      "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping",
      "iterable", "sequence", "callable", "true", "false", "odd", "even", "divisibleby", "eq", "equalto",
      "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in",
      "sameas", "lower", "upper"};
  return names;
}

}  // namespace

bool is_known_filter(const std::string& name) { return filter_names().count(name) != 0; }
bool is_known_test(const std::string& name) { return test_names().count(name) != 0; }

Value apply_filter(const std::string& name, const Value& input, CallArguments& arguments) {
  auto no_arguments = [&] { BoundArguments(name, arguments, {}); };
  if (name == "tojson") return Value(to_json(input, arguments));
  if (name == "length" || name == "count") {
    no_arguments();
    return Value(python_len(input));
  }
  if (name == "trim") {
    BoundArguments args("trim", arguments, {"chars"});
    std::string trimmed = python_strip(python_str(input), optional_string(args, 0, "trim chars"), StripSide::Both);
    return input.is_markup() ? Value::markup(std::move(trimmed)) : Value(std::move(trimmed));
  }
  if (name == "upper") return no_arguments(), Value(python_upper(python_str(input)));
  if (name == "lower") return no_arguments(), Value(python_lower(python_str(input)));
  if (name == "capitalize") return no_arguments(), Value(python_capitalize(python_str(input)));
  if (name == "title") return no_arguments(), Value(python_title(python_str(input)));
  if (name == "default" || name == "d") {
    BoundArguments args(name, arguments, {"default_value", "boolean"});
    bool use_default = (args.given(1) && args[1].truthy()) ? !input.truthy() : input.is_undefined();
    if (!use_default) return input;
    return args.given(0) ? args[0] : Value("");
  }
  if (name == "first" || name == "last") {
    no_arguments();
    List items = iterate(input);
    if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") return filter_join(input, arguments);
  if (name == "replace") {
    BoundArguments args("replace", arguments, {"old", "new", "count"});
    if (!args.given(0) || !args.given(1)) throw Failure("replace() needs the old and new text");
    int64_t count = args.given(2) && !args[2].is_none() ? require_int(args[2], "replace count") : -1;
    return Value(python_replace(python_str(input), python_str(args[0]), python_str(args[1]), count));
  }
  if (name == "string") return no_arguments(), input.is_markup() ? input : Value(python_str(input));
  if (name == "int") return filter_int(input, arguments);
  if (name == "float") return filter_float(input, arguments);
  if (name == "items") {
    no_arguments();
    if (input.is_undefined()) return Value(List{});
    if (!input.is_dict()) throw Failure("items filter expects a mapping, not " + input.type_name());
    List out;
    for (const auto& [key, value] : input.as_dict().entries) out.push_back(Value::tuple(List{Value(key), value}));
    return Value(std::move(out));
  }
  if (name == "list") return no_arguments(), Value(iterate(input));
  if (name == "safe") {
    no_arguments();
    return input.is_markup() ? input : Value::markup(python_str(input));
  }
  if (name == "escape" || name == "e") {
    no_arguments();
    return input.is_markup() ? input : Value::markup(html_escape(python_str(input)));
  }
  if (name == "abs") {
    no_arguments();
    if (input.is_float()) return Value(std::fabs(input.as_double()));
    if (input.is_int() || input.is_bool()) return Value(input.as_int() < 0 ? -input.as_int() : input.as_int());
    throw Failure("bad operand type for abs(): '" + input.type_name() + "'");
  }
  if (name == "reverse") {
    no_arguments();
    if (input.is_string()) {
      std::vector<uint32_t> text = utf8_to_code_points(input.as_string());
      std::reverse(text.begin(), text.end());
      return Value(code_points_to_utf8(text));
    }
    List items = iterate(input);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "sort") return filter_sort(input, arguments);
  if (name == "map") return filter_map(input, arguments);
  if (name == "select") return filter_select(input, arguments, false, true);
  if (name == "reject") return filter_select(input, arguments, false, false);
  if (name == "selectattr") return filter_select(input, arguments, true, true);
  if (name == "rejectattr") return filter_select(input, arguments, true, false);
  if (name == "unique") {
    no_arguments();
    List out;
    for (const Value& item : iterate(input))
      if (std::none_of(out.begin(), out.end(), [&](const Value& seen) { return seen.equals(item); }))
        out.push_back(item);
    return Value(std::move(out));
  }
  if (name == "min" || name == "max") {
    no_arguments();
    List items = iterate(input);
    if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    Value best = items[0];
    for (const Value& item : items)
      if (name == "min" ? python_less(item, best) : python_less(best, item)) best = item;
    return best;
  }
  if (name == "sum") {
    no_arguments();
    Value total(0);
    bool is_float = false;
    int64_t int_total = 0;
    double float_total = 0;
    for (const Value& item : iterate(input)) {
      if (!item.is_number()) throw Failure("sum: unsupported operand type '" + item.type_name() + "'");
      if (item.is_float()) is_float = true;
      int_total += item.is_float() ? 0 : item.as_int();
      float_total += item.as_double();
    }
    return is_float ? Value(float_total) : Value(int_total);
  }
  if (name == "attr") {
    BoundArguments args("attr", arguments, {"name"});
    return get_attribute(input, require_string(args[0], "attribute name"));
  }
  if (name == "wordcount") return no_arguments(), Value(static_cast<int64_t>(python_split(python_str(input), std::nullopt, -1).size()));
  throw Failure("unknown filter '" + name + "'");
}

bool apply_test(const std::string& name, const Value& value, CallArguments& arguments) {
  auto no_arguments = [&] { BoundArguments(name, arguments, {}); };
  auto other = [&] {
    BoundArguments args(name, arguments, {"other"});
    if (!args.given(0)) throw Failure("test '" + name + "' needs an argument");
    return args[0];
  };
  if (name == "defined") return no_arguments(), !value.is_undefined();
  if (name == "undefined") return no_arguments(), value.is_undefined();
  if (name == "none") return no_arguments(), value.is_none();
  if (name == "string") return no_arguments(), value.is_string();
  if (name == "number") return no_arguments(), value.is_number();
  if (name == "integer") return no_arguments(), value.is_int();
  if (name == "float") return no_arguments(), value.is_float();
  if (name == "boolean") return no_arguments(), value.is_bool();
  if (name == "mapping") return no_arguments(), value.is_dict();
  // Python's iter()/len()+__getitem__ probes: Jinja's Undefined passes both.
  if (name == "iterable" || name == "sequence")
    return no_arguments(), value.is_undefined() || value.is_string() || value.is_list() || value.is_dict();
  if (name == "callable") return no_arguments(), value.is_callable();
  if (name == "true") return no_arguments(), value.is_bool() && value.as_bool();
  if (name == "false") return no_arguments(), value.is_bool() && !value.as_bool();
  if (name == "odd" || name == "even") {
    no_arguments();
    int64_t n = require_int(value, "odd/even test operand");
    return ((n % 2) != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    int64_t divisor = require_int(other(), "divisibleby argument");
    if (divisor == 0) throw Failure("integer division or modulo by zero");
    return require_int(value, "divisibleby operand") % divisor == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return value.equals(other());
  if (name == "ne" || name == "!=") return !value.equals(other());
  if (name == "lt" || name == "lessthan" || name == "<") return python_less(value, other());
  if (name == "gt" || name == "greaterthan" || name == ">") return python_less(other(), value);
  if (name == "le" || name == "<=") return !python_less(other(), value);
  if (name == "ge" || name == ">=") return !python_less(value, other());
  if (name == "in") {
    Value container = other();
    if (container.is_string()) return value.is_string() && container.as_string().find(value.as_string()) != std::string::npos;
    if (container.is_dict()) return value.is_string() && container.as_dict().find(value.as_string()) != nullptr;
    for (const Value& item : iterate(container))
      if (item.equals(value)) return true;
    return false;
  }
  if (name == "sameas") {
    Value o = other();
    if (value.kind() != o.kind()) return false;
    if (value.is_none() || value.is_bool()) return value.equals(o);
    return false;
  }
  if (name == "lower") return no_arguments(), value.is_string() && python_lower(value.as_string()) == value.as_string();
  if (name == "upper") return no_arguments(), value.is_string() && python_upper(value.as_string()) == value.as_string();
  throw Failure("unknown test '" + name + "'");
}

namespace {

std::optional<Value> call_string_method(const std::string& s, const std::string& name, CallArguments& arguments) {
  if (name == "startswith" || name == "endswith") {
    BoundArguments args(name, arguments, {"prefix"});
    std::vector<std::string> candidates;
    if (args[0].is_list()) {
      for (const Value& item : args[0].as_list()) candidates.push_back(require_string(item, name + " argument"));
    } else {
      candidates.push_back(require_string(args[0], name + " argument"));
    }
    for (const std::string& c : candidates) {
      bool match = c.size() <= s.size() &&
                   (name == "startswith" ? s.compare(0, c.size(), c) == 0 : s.compare(s.size() - c.size(), c.size(), c) == 0);
      if (match) return Value(true);
    }
    return Value(false);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    BoundArguments args(name, arguments, {"chars"});
    StripSide side = name == "strip" ? StripSide::Both : name == "lstrip" ? StripSide::Left : StripSide::Right;
    return Value(python_strip(s, optional_string(args, 0, name + " chars"), side));
  }
  if (name == "split" || name == "rsplit") {
    BoundArguments args(name, arguments, {"sep", "maxsplit"});
    auto separator = optional_string(args, 0, name + " separator");
    int64_t max_split = args.given(1) ? require_int(args[1], name + " maxsplit") : -1;
    return Value(string_list(name == "split" ? python_split(s, separator, max_split) : python_rsplit(s, separator, max_split)));
  }
  if (name == "replace") {
    BoundArguments args(name, arguments, {"old", "new", "count"});
    int64_t count = args.given(2) ? require_int(args[2], "replace count") : -1;
    return Value(python_replace(s, require_string(args[0], "replace old"), require_string(args[1], "replace new"), count));
  }
  if (name == "upper") return BoundArguments(name, arguments, {}), Value(python_upper(s));
  if (name == "lower") return BoundArguments(name, arguments, {}), Value(python_lower(s));
  if (name == "title") return BoundArguments(name, arguments, {}), Value(python_title(s));
  if (name == "capitalize") return BoundArguments(name, arguments, {}), Value(python_capitalize(s));
  if (name == "find" || name == "count") {
    BoundArguments args(name, arguments, {"sub"});
    const std::string& sub = require_string(args[0], name + " argument");
    if (name == "find") {
      size_t at = s.find(sub);
      return Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(python_length(s.substr(0, at))));
    }
    if (sub.empty()) return Value(static_cast<int64_t>(python_length(s) + 1));
    int64_t count = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++count;
    return Value(count);
  }
  if (name == "join") {
    BoundArguments args(name, arguments, {"iterable"});
    std::string out;
    bool first = true;
    for (const Value& item : iterate(args[0])) {
      if (!first) out += s;
      first = false;
      out += require_string(item, "join item");
    }
    return Value(std::move(out));
  }
  if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
    BoundArguments(name, arguments, {});
    if (s.empty()) return Value(false);
    for (uint32_t c : utf8_to_code_points(s)) {
      bool ok = name == "isdigit"   ? (c >= '0' && c <= '9')
                : name == "isspace" ? python_is_space(c)
                : name == "isalpha" ? (c < 0x80 ? std::isalpha(static_cast<int>(c)) != 0 : true)
                                    : (c < 0x80 ? std::isalnum(static_cast<int>(c)) != 0 : true);
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  return std::nullopt;
}

std::optional<Value> call_dict_method(const Dict& dict, const std::string& name, CallArguments& arguments) {
  if (name == "get") {
    BoundArguments args(name, arguments, {"key", "default"});
    Value fallback = args.given(1) ? args[1] : Value::none();
    if (!args[0].is_string()) return fallback;
    const Value* found = dict.find(args[0].as_string());
    return found ? *found : fallback;
  }
  if (name == "items" || name == "keys" || name == "values") {
    BoundArguments(name, arguments, {});
    List out;
    for (const auto& [key, value] : dict.entries) {
      if (name == "items") out.push_back(Value::tuple(List{Value(key), value}));
      else if (name == "keys") out.emplace_back(key);
      else out.push_back(value);
    }
    return Value(std::move(out));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Value> call_method(const Value& object, const std::string& name, CallArguments& arguments) {
  if (object.is_string()) {
    std::optional<Value> result = call_string_method(object.as_string(), name, arguments);
    // Markup's str methods return Markup (strip, upper, ...), keeping it "safe".
    if (result && object.is_markup() && result->is_string()) return Value::markup(result->as_string());
    return result;
  }
  if (object.is_dict()) return call_dict_method(object.as_dict(), name, arguments);
  if (object.is_list() && (name == "index" || name == "count")) {
    BoundArguments args(name, arguments, {"value"});
    const List& list = object.as_list();
    int64_t count = 0;
    for (size_t k = 0; k < list.size(); ++k) {
      if (!list[k].equals(args[0])) continue;
      if (name == "index") return Value(static_cast<int64_t>(k));
      ++count;
    }
    if (name == "index") throw Failure("list.index(x): x not in list");
    return Value(count);
  }
  return std::nullopt;
}

}  // namespace qwen3vl::jinja
