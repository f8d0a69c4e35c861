#include "qwen3vl/tokenizer/jinja/interpreter.h"

#include <cmath>
#include <ctime>
#include <limits>

#include "qwen3vl/base/error.h"
#include "qwen3vl/tokenizer/jinja/builtins.h"
#include "qwen3vl/tokenizer/jinja/failure.h"
#include "qwen3vl/tokenizer/jinja/python_string.h"
#include "qwen3vl/tokenizer/jinja/value_format.h"

namespace qwen3vl::jinja {
namespace {

// Jinja's sandbox refuses ranges longer than this; so do we.
constexpr int64_t kMaxRange = 100000;

class Interpreter {
 public:
  Interpreter(const std::string& origin, const Dict& variables, const RenderLimits& limits)
      : origin_(origin), limits_(limits) {
    install_globals();
    for (const auto& [name, value] : variables.entries) context_.set(name, value);
    scopes_ = {&globals_, &context_, &template_locals_};
  }

  std::string render(const Body& body) {
    std::string out;
    Flow flow = execute_body(body, out);
    if (flow != Flow::Normal) throw Error("chat template " + origin_ + ": 'break' or 'continue' outside a loop");
    return out;
  }

 private:
  enum class Flow { Normal, Break, Continue };

  // ---- scopes -----------------------------------------------------------

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (const Value* found = (*it)->find(name)) return *found;
    return Value::undefined("'" + name + "' is undefined");
  }

  void assign(const std::string& name, Value value) { scopes_.back()->set(name, std::move(value)); }

  struct ScopePush {
    ScopePush(std::vector<Dict*>& scopes, Dict* scope) : scopes_(scopes) { scopes_.push_back(scope); }
    ~ScopePush() { scopes_.pop_back(); }
    std::vector<Dict*>& scopes_;
  };

  void install_globals() {
    globals_.set("range", Value::make_callable("range", [](CallArguments& args) { return builtin_range(args); }));
    globals_.set("namespace", Value::make_callable("namespace", [](CallArguments& args) {
      Dict attributes;
      for (const Value& positional : args.positional) {
        if (!positional.is_dict()) throw Failure("namespace() positional argument must be a mapping");
        for (const auto& [key, value] : positional.as_dict().entries) attributes.set(key, value);
      }
      for (auto& [key, value] : args.keyword) attributes.set(key, value);
      return Value::make_namespace(std::move(attributes));
    }));
    globals_.set("dict", Value::make_callable("dict", [](CallArguments& args) {
      Dict dict;
      for (const Value& positional : args.positional) {
        if (!positional.is_dict()) throw Failure("dict() positional argument must be a mapping");
        for (const auto& [key, value] : positional.as_dict().entries) dict.set(key, value);
      }
      for (auto& [key, value] : args.keyword) dict.set(key, value);
      return Value(std::move(dict));
    }));
    globals_.set("raise_exception", Value::make_callable("raise_exception", [](CallArguments& args) -> Value {
      throw RaisedByTemplate(args.positional.empty() ? std::string() : python_str(args.positional[0]));
    }));
    // transformers provides strftime_now(format) for templates that print today's date.
    globals_.set("strftime_now", Value::make_callable("strftime_now", [](CallArguments& args) {
      if (args.positional.size() != 1 || !args.positional[0].is_string())
        throw Failure("strftime_now() takes one format string");
      std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buffer[256];
      size_t length = std::strftime(buffer, sizeof(buffer), args.positional[0].as_string().c_str(), &local);
      return Value(std::string(buffer, length));
    }));
  }

  static Value builtin_range(CallArguments& args) {
    if (!args.keyword.empty() || args.positional.empty() || args.positional.size() > 3)
      throw Failure("range() takes 1 to 3 integer arguments");
    int64_t bounds[3] = {0, 0, 1};
    for (size_t k = 0; k < args.positional.size(); ++k) {
      const Value& v = args.positional[k];
      if (!v.is_int() && !v.is_bool()) throw Failure("range() arguments must be integers, not " + v.type_name());
    }
    if (args.positional.size() == 1) {
      bounds[1] = args.positional[0].as_int();
    } else {
      bounds[0] = args.positional[0].as_int();
      bounds[1] = args.positional[1].as_int();
      if (args.positional.size() == 3) bounds[2] = args.positional[2].as_int();
    }
    if (bounds[2] == 0) throw Failure("range() arg 3 must not be zero");
    long double span = (static_cast<long double>(bounds[1]) - bounds[0]) / bounds[2];
    if (span > kMaxRange) throw Failure("range too big (more than 100000 items)");
    List out;
    for (int64_t v = bounds[0]; bounds[2] > 0 ? v < bounds[1] : v > bounds[1]; v += bounds[2]) out.emplace_back(v);
    return Value(std::move(out));
  }

  // ---- statements -------------------------------------------------------

  [[noreturn]] void fail_at(SourcePosition position, const std::string& message) const {
    throw_template_error(origin_, position, message);
  }

  void append(std::string& out, const std::string& text, SourcePosition position) {
    out += text;
    if (out.size() > limits_.max_output_bytes)
      fail_at(position, "rendered output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
  }

  Flow execute_body(const Body& body, std::string& out) {
    for (const StatementPtr& statement : body) {
      Flow flow = execute(*statement, out);
      if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
  }

  Flow execute(const Statement& statement, std::string& out) {
    switch (statement.kind) {
      case Statement::Kind::Text:
        append(out, statement.text, statement.position);
        return Flow::Normal;
      case Statement::Kind::Output:
        append(out, python_str(evaluate(*statement.expression)), statement.position);
        return Flow::Normal;
      case Statement::Kind::If:
        for (const auto& [condition, body] : statement.branches)
          if (evaluate(*condition).truthy()) return execute_body(body, out);
        return execute_body(statement.else_body, out);
      case Statement::Kind::For:
        return execute_for(statement, out);
      case Statement::Kind::Set:
        execute_set(statement);
        return Flow::Normal;
      case Statement::Kind::SetBlock: {
        std::string captured;
        Flow flow = execute_body(statement.body, captured);
        assign(statement.targets[0], Value(std::move(captured)));
        return flow;
      }
      case Statement::Kind::Macro:
        define_macro(statement);
        return Flow::Normal;
      case Statement::Kind::Break:
        return Flow::Break;
      case Statement::Kind::Continue:
        return Flow::Continue;
      case Statement::Kind::Group:
        return execute_body(statement.body, out);
    }
    return Flow::Normal;
  }

  void bind_targets(const std::vector<std::string>& targets, const Value& value, SourcePosition position) {
    if (targets.size() == 1) {
      assign(targets[0], value);
      return;
    }
    List items;
    try {
      items = iterate(value);
    } catch (const Failure& failure) {
      fail_at(position, std::string("cannot unpack: ") + failure.what());
    }
    if (items.size() != targets.size())
      fail_at(position, "cannot unpack " + std::to_string(items.size()) + " values into " +
                            std::to_string(targets.size()) + " names");
    for (size_t k = 0; k < targets.size(); ++k) assign(targets[k], items[k]);
  }

  void count_iteration(SourcePosition position) {
    if (++iterations_ > limits_.max_loop_iterations)
      fail_at(position, "more than " + std::to_string(limits_.max_loop_iterations) + " loop iterations");
  }

  Flow execute_for(const Statement& statement, std::string& out) {
    Value iterable = evaluate(*statement.expression);
    List items;
    try {
      items = iterate(iterable);
    } catch (const Failure& failure) {
      fail_at(statement.expression->position, failure.what());
    }
    if (statement.condition) {
      // `for x in xs if cond` filters before looping, so loop.length counts survivors.
      List kept;
      for (const Value& item : items) {
        count_iteration(statement.position);
        Dict scope;
        ScopePush push(scopes_, &scope);
        bind_targets(statement.targets, item, statement.position);
        if (evaluate(*statement.condition).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < length; ++k) {
      count_iteration(statement.position);
      Dict scope;
      ScopePush push(scopes_, &scope);
      // Built entry by entry (no lookups): this runs once per iteration.
      Dict loop;
      loop.entries.reserve(11);
      loop.entries.emplace_back("index0", Value(k));
      loop.entries.emplace_back("index", Value(k + 1));
      loop.entries.emplace_back("revindex0", Value(length - k - 1));
      loop.entries.emplace_back("revindex", Value(length - k));
      loop.entries.emplace_back("first", Value(k == 0));
      loop.entries.emplace_back("last", Value(k == length - 1));
      loop.entries.emplace_back("length", Value(length));
      loop.entries.emplace_back("depth", Value(1));
      loop.entries.emplace_back("depth0", Value(0));
      loop.entries.emplace_back("previtem", k > 0 ? items[k - 1] : Value::undefined("there is no previous item"));
      loop.entries.emplace_back("nextitem", k + 1 < length ? items[k + 1] : Value::undefined("there is no next item"));
      scope.set("loop", Value(std::move(loop)));
      bind_targets(statement.targets, items[k], statement.position);
      Flow flow = execute_body(statement.body, out);
      if (flow == Flow::Break) break;
    }
    if (length == 0) return execute_body(statement.else_body, out);
    return Flow::Normal;
  }

  void execute_set(const Statement& statement) {
    Value value = evaluate(*statement.expression);
    if (statement.attribute.empty()) {
      bind_targets(statement.targets, value, statement.position);
      return;
    }
    Value target = lookup(statement.targets[0]);
    if (!target.is_namespace())
      fail_at(statement.position, "cannot assign attribute '" + statement.attribute + "' on '" + statement.targets[0] +
                                      "': it is not a namespace()");
    target.namespace_attributes().set(statement.attribute, std::move(value));
  }

  void define_macro(const Statement& statement) {
    const Statement* macro = &statement;
    assign(statement.name, Value::make_callable(statement.name, [this, macro](CallArguments& args) {
      return call_macro(*macro, args);
    }));
  }

  Value call_macro(const Statement& macro, CallArguments& args) {
    if (call_depth_ >= limits_.max_call_depth)
      throw Failure("macro calls nested deeper than " + std::to_string(limits_.max_call_depth));
    if (args.positional.size() > macro.parameters.size())
      throw Failure("macro '" + macro.name + "' takes " + std::to_string(macro.parameters.size()) + " argument(s), " +
                    std::to_string(args.positional.size()) + " given");
    // A macro sees the template's globals and top level, not its caller's loop variables.
    std::vector<Dict*> saved = scopes_;
    Dict locals;
    scopes_ = {&globals_, &context_, &template_locals_, &locals};
    struct Restore {
      Interpreter& self;
      std::vector<Dict*>& saved;
      ~Restore() {
        self.scopes_ = saved;
        --self.call_depth_;
      }
    } restore{*this, saved};
    ++call_depth_;
    std::vector<bool> bound(macro.parameters.size(), false);
    for (size_t k = 0; k < args.positional.size(); ++k) {
      locals.set(macro.parameters[k].first, args.positional[k]);
      bound[k] = true;
    }
    for (auto& [keyword, value] : args.keyword) {
      size_t k = 0;
      while (k < macro.parameters.size() && macro.parameters[k].first != keyword) ++k;
      if (k == macro.parameters.size()) throw Failure("macro '" + macro.name + "' has no parameter '" + keyword + "'");
      locals.set(keyword, value);
      bound[k] = true;
    }
    for (size_t k = 0; k < macro.parameters.size(); ++k) {
      if (bound[k]) continue;
      const auto& [parameter, default_value] = macro.parameters[k];
      locals.set(parameter, default_value ? evaluate(*default_value)
                                          : Value::undefined("parameter '" + parameter + "' was not provided"));
    }
    std::string out;
    execute_body(macro.body, out);
    return Value(std::move(out));
  }

  // ---- expressions ------------------------------------------------------

  Value evaluate(const Expression& expression) {
    try {
      return evaluate_unlocated(expression);
    } catch (const Failure& failure) {
      fail_at(expression.position, failure.what());
    } catch (const RaisedByTemplate& raised) {
      fail_at(expression.position, std::string("raise_exception: ") + raised.what());
    }
  }

  Value evaluate_unlocated(const Expression& e) {
    switch (e.kind) {
      case Expression::Kind::Literal:
        return e.literal;
      case Expression::Kind::Name:
        return lookup(e.name);
      case Expression::Kind::List:
      case Expression::Kind::Tuple: {
        List items;
        for (const auto& operand : e.operands) items.push_back(evaluate(*operand));
        return e.kind == Expression::Kind::Tuple ? Value::tuple(std::move(items)) : Value(std::move(items));
      }
      case Expression::Kind::Dict: {
        Dict dict;
        for (size_t k = 0; k + 1 < e.operands.size(); k += 2) {
          Value key = evaluate(*e.operands[k]);
          if (!key.is_string()) throw Failure("dict keys must be strings, not " + key.type_name());
          dict.set(key.as_string(), evaluate(*e.operands[k + 1]));
        }
        return Value(std::move(dict));
      }
      case Expression::Kind::Attribute:
        return get_attribute(evaluate(*e.operands[0]), e.name);
      case Expression::Kind::Subscript:
        return get_item(evaluate(*e.operands[0]), evaluate(*e.operands[1]));
      case Expression::Kind::Slice:
        return slice(e);
      case Expression::Kind::Call:
        return call(e);
      case Expression::Kind::Filter: {
        Value input = evaluate(*e.operands[0]);
        CallArguments args = evaluate_arguments(e);
        return apply_filter(e.name, input, args);
      }
      case Expression::Kind::Test: {
        Value input = evaluate(*e.operands[0]);
        CallArguments args = evaluate_arguments(e);
        return Value(apply_test(e.name, input, args) != e.negated);
      }
      case Expression::Kind::Unary:
        return unary(e.name, evaluate(*e.operands[0]));
      case Expression::Kind::Binary:
        return binary(e);
      case Expression::Kind::Compare:
        return compare(e);
      case Expression::Kind::Conditional:
        if (evaluate(*e.operands[1]).truthy()) return evaluate(*e.operands[0]);
        if (e.operands[2]) return evaluate(*e.operands[2]);
        return Value::undefined("the inline if-expression had no else branch");
    }
    throw Failure("unknown expression");
  }

  CallArguments evaluate_arguments(const Expression& e) {
    CallArguments args;
    for (size_t k = 1; k < e.operands.size(); ++k) args.positional.push_back(evaluate(*e.operands[k]));
    for (const auto& [keyword, operand] : e.keywords) args.keyword.emplace_back(keyword, evaluate(*operand));
    return args;
  }

  static Value get_attribute(const Value& object, const std::string& name) {
    if (object.is_undefined()) throw Failure(describe_undefined(object));
    if (object.is_dict() || object.is_namespace()) {
      if (const Value* found = object.as_dict().find(name)) return *found;
    }
    return Value::undefined("'" + object.type_name() + " object' has no attribute '" + name + "'");
  }

  static Value get_item(const Value& object, const Value& key) {
    if (object.is_undefined()) throw Failure(describe_undefined(object));
    if ((object.is_dict() || object.is_namespace()) && key.is_string()) {
      if (const Value* found = object.as_dict().find(key.as_string())) return *found;
    }
    if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
      int64_t length = python_len(object);
      int64_t index = key.as_int() < 0 ? key.as_int() + length : key.as_int();
      if (index >= 0 && index < length) {
        if (object.is_list()) return object.as_list()[static_cast<size_t>(index)];
        std::vector<uint32_t> text = utf8_to_code_points(object.as_string());
        std::string character;
        append_utf8(character, text[static_cast<size_t>(index)]);
        return Value(std::move(character));
      }
    }
    return Value::undefined("'" + object.type_name() + " object' has no item " + python_repr(key));
  }

  Value slice(const Expression& e) {
    Value object = evaluate(*e.operands[0]);
    std::optional<int64_t> bounds[3];
    for (int k = 0; k < 3; ++k) {
      if (!e.operands[k + 1]) continue;
      Value bound = evaluate(*e.operands[k + 1]);
      if (bound.is_none()) continue;
      if (!bound.is_int() && !bound.is_bool()) throw Failure("slice indices must be integers, not " + bound.type_name());
      bounds[k] = bound.as_int();
    }
    int64_t step = bounds[2].value_or(1);
    if (object.is_undefined()) throw Failure(describe_undefined(object));
    if (object.is_list()) {
      const List& list = object.as_list();
      List out;
      for (size_t index : slice_indices(list.size(), bounds[0], bounds[1], step)) out.push_back(list[index]);
      return Value(std::move(out));
    }
    if (object.is_string()) {
      std::vector<uint32_t> text = utf8_to_code_points(object.as_string());
      std::vector<uint32_t> out;
      for (size_t index : slice_indices(text.size(), bounds[0], bounds[1], step)) out.push_back(text[index]);
      return Value(code_points_to_utf8(out));
    }
    throw Failure("'" + object.type_name() + "' object is not subscriptable");
  }

  Value call(const Expression& e) {
    const Expression& callee = *e.operands[0];
    if (callee.kind == Expression::Kind::Attribute) {
      Value object = evaluate(*callee.operands[0]);
      if (object.is_undefined()) throw Failure(describe_undefined(object));
      CallArguments args = evaluate_arguments(e);
      if (std::optional<Value> result = call_method(object, callee.name, args)) return *result;
      Value attribute = get_attribute(object, callee.name);
      if (!attribute.is_callable()) throw Failure(describe_undefined(attribute));
      return attribute.as_callable().invoke(args);
    }
    Value function = evaluate(callee);
    if (function.is_undefined()) throw Failure(describe_undefined(function));
    if (!function.is_callable()) throw Failure("'" + function.type_name() + "' object is not callable");
    CallArguments args = evaluate_arguments(e);
    return function.as_callable().invoke(args);
  }

  static Value unary(const std::string& op, const Value& operand) {
    if (op == "not") return Value(!operand.truthy());
    if (operand.is_undefined()) throw Failure(describe_undefined(operand));
    if (operand.is_float()) return Value(op == "-" ? -operand.as_double() : operand.as_double());
    if (operand.is_int() || operand.is_bool()) {
      if (op == "+") return Value(operand.as_int());
      if (operand.as_int() == std::numeric_limits<int64_t>::min()) throw Failure("integer overflow");
      return Value(-operand.as_int());
    }
    throw Failure("bad operand type for unary " + op + ": '" + operand.type_name() + "'");
  }

  Value binary(const Expression& e) {
    const std::string& op = e.name;
    if (op == "and") {
      Value left = evaluate(*e.operands[0]);
      return left.truthy() ? evaluate(*e.operands[1]) : left;
    }
    if (op == "or") {
      Value left = evaluate(*e.operands[0]);
      return left.truthy() ? left : evaluate(*e.operands[1]);
    }
    Value left = evaluate(*e.operands[0]);
    Value right = evaluate(*e.operands[1]);
    if (op == "~") return checked_string(python_str(left) + python_str(right));
    return arithmetic(op, left, right);
  }

  Value checked_string(std::string s) const {
    if (s.size() > limits_.max_output_bytes) throw Failure("string result too large");
    return Value(std::move(s));
  }

  Value arithmetic(const std::string& op, const Value& a, const Value& b) const {
    if (a.is_undefined()) throw Failure(describe_undefined(a));
    if (b.is_undefined()) throw Failure(describe_undefined(b));
    auto unsupported = [&]() -> Failure {
      return Failure("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
    };
    if (op == "+") {
      if (a.is_string() && b.is_string()) {
        if (!a.is_markup() && !b.is_markup()) return checked_string(a.as_string() + b.as_string());
        auto safe_text = [](const Value& v) { return v.is_markup() ? v.as_string() : html_escape(v.as_string()); };
        return Value::markup(checked_string(safe_text(a) + safe_text(b)).as_string());
      }
      if (a.is_list() && b.is_list()) {
        List out = a.as_list();
        out.insert(out.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(out));
      }
    }
    if (op == "*" && (a.is_string() || a.is_list() || b.is_string() || b.is_list())) {
      const Value& sequence = (a.is_string() || a.is_list()) ? a : b;
      const Value& count_value = (a.is_string() || a.is_list()) ? b : a;
      if (!count_value.is_int() && !count_value.is_bool()) throw unsupported();
      int64_t count = std::max<int64_t>(0, count_value.as_int());
      if (sequence.is_string()) {
        if (count > 0 && sequence.as_string().size() > limits_.max_output_bytes / static_cast<size_t>(count))
          throw Failure("string result too large");
        std::string out;
        for (int64_t k = 0; k < count; ++k) out += sequence.as_string();
        return Value(std::move(out));
      }
      if (count > 0 && sequence.as_list().size() > static_cast<size_t>(kMaxRange) / static_cast<size_t>(count))
        throw Failure("list result too large");
      List out;
      for (int64_t k = 0; k < count; ++k) out.insert(out.end(), sequence.as_list().begin(), sequence.as_list().end());
      return Value(std::move(out));
    }
    if (!a.is_number() || !b.is_number()) throw unsupported();
    const bool floats = a.is_float() || b.is_float();
    if (op == "/") {
      if (b.as_double() == 0.0) throw Failure("division by zero");
      return Value(a.as_double() / b.as_double());
    }
    if (floats) {
      double x = a.as_double(), y = b.as_double();
      if (op == "+") return Value(x + y);
      if (op == "-") return Value(x - y);
      if (op == "*") return Value(x * y);
      if (op == "**") return Value(std::pow(x, y));
      if (y == 0.0) throw Failure("float division by zero");
      if (op == "//") return Value(std::floor(x / y));
      if (op == "%") {
        double r = std::fmod(x, y);
        if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
        return Value(r);
      }
      throw unsupported();
    }
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    if (op == "+") {
      if (__builtin_add_overflow(x, y, &r)) throw Failure("integer overflow");
      return Value(r);
    }
    if (op == "-") {
      if (__builtin_sub_overflow(x, y, &r)) throw Failure("integer overflow");
      return Value(r);
    }
    if (op == "*") {
      if (__builtin_mul_overflow(x, y, &r)) throw Failure("integer overflow");
      return Value(r);
    }
    if (op == "**") {
      if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
      r = 1;
      for (int64_t k = 0; k < y; ++k) {
        if (__builtin_mul_overflow(r, x, &r)) throw Failure("integer overflow");
        if (r == 0 || r == 1) break;
      }
      return Value(r);
    }
    if (y == 0) throw Failure("integer division or modulo by zero");
    if (x == std::numeric_limits<int64_t>::min() && y == -1) throw Failure("integer overflow");
    int64_t quotient = x / y, remainder = x % y;
    if (remainder != 0 && ((remainder < 0) != (y < 0))) {
      quotient -= 1;
      remainder += y;
    }
    if (op == "//") return Value(quotient);
    if (op == "%") return Value(remainder);
    throw unsupported();
  }

  static bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
      case Value::Kind::Undefined:
        return false;
      case Value::Kind::String:
        if (!item.is_string())
          throw Failure("'in <string>' requires string as left operand, not " + item.type_name());
        return container.as_string().find(item.as_string()) != std::string::npos;
      case Value::Kind::List:
        for (const Value& element : container.as_list())
          if (element.equals(item)) return true;
        return false;
      case Value::Kind::Dict:
        return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
      default:
        throw Failure("argument of type '" + container.type_name() + "' is not iterable");
    }
  }

  Value compare(const Expression& e) {
    Value left = evaluate(*e.operands[0]);
    for (size_t k = 0; k < e.ops.size(); ++k) {
      Value right = evaluate(*e.operands[k + 1]);
      const std::string& op = e.ops[k];
      bool result;
      if (op == "==") result = left.equals(right);
      else if (op == "!=") result = !left.equals(right);
      else if (op == "<") result = python_less(left, right);
      else if (op == ">") result = python_less(right, left);
      else if (op == "<=") result = left.equals(right) || python_less(left, right);
      else if (op == ">=") result = left.equals(right) || python_less(right, left);
      else if (op == "in") result = contains(right, left);
      else result = !contains(right, left);
      if (!result) return Value(false);
      left = std::move(right);
    }
    return Value(true);
  }

  const std::string& origin_;
  RenderLimits limits_;
  Dict globals_;
  Dict context_;
  Dict template_locals_;
  std::vector<Dict*> scopes_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render_template(const Body& body, const std::string& origin, const Dict& variables,
                            const RenderLimits& limits) {
  Interpreter interpreter(origin, variables, limits);
  return interpreter.render(body);
}

}  // namespace qwen3vl::jinja
