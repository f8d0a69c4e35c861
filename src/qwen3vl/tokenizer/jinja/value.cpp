#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

Value::Value(List list) : kind_(Kind::List), list_(std::make_shared<List>(std::move(list))) {}
Value::Value(Dict dict) : kind_(Kind::Dict), dict_(std::make_shared<Dict>(std::move(dict))) {}

Value Value::undefined(std::string hint) {
  Value v;
  v.string_ = std::move(hint);
  return v;
}

Value Value::tuple(List items) {
  Value v(std::move(items));
  v.is_tuple_ = true;
  return v;
}

Value Value::markup(std::string text) {
  Value v(std::move(text));
  v.is_markup_ = true;
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::make_namespace(Dict attributes) {
  Value v;
  v.kind_ = Kind::Namespace;
  v.dict_ = std::make_shared<Dict>(std::move(attributes));
  return v;
}

Value Value::make_callable(std::string name, std::function<Value(CallArguments&)> invoke) {
  Value v;
  v.kind_ = Kind::Callable;
  v.callable_ = std::make_shared<Callable>(Callable{std::move(name), std::move(invoke)});
  return v;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
    case Kind::Int:
      return int_ != 0;
    case Kind::Float:
      return float_ != 0.0;
    case Kind::String:
      return !string_.empty();
    case Kind::List:
      return !list_->empty();
    case Kind::Dict:
      return dict_->size() != 0;
    case Kind::Namespace:
    case Kind::Callable:
      return true;
  }
  return false;
}

bool Value::equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (is_float() || other.is_float()) return as_double() == other.as_double();
    return int_ == other.int_;
  }
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return true;
    case Kind::String:
      return string_ == other.string_;
    case Kind::List: {
      if (is_tuple_ != other.is_tuple_ || list_->size() != other.list_->size()) return false;
      for (size_t i = 0; i < list_->size(); ++i)
        if (!(*list_)[i].equals((*other.list_)[i])) return false;
      return true;
    }
    case Kind::Dict: {
      if (dict_->size() != other.dict_->size()) return false;
      for (const auto& [key, value] : dict_->entries) {
        const Value* theirs = other.dict_->find(key);
        if (!theirs || !value.equals(*theirs)) return false;
      }
      return true;
    }
    case Kind::Namespace:
      return dict_ == other.dict_;
    case Kind::Callable:
      return callable_ == other.callable_;
    default:
      return false;
  }
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Callable: return "function";
  }
  return "object";
}

const Value* Dict::find(const std::string& key) const {
  for (const auto& entry : entries)
    if (entry.first == key) return &entry.second;
  return nullptr;
}

Value* Dict::find(const std::string& key) {
  for (auto& entry : entries)
    if (entry.first == key) return &entry.second;
  return nullptr;
}

void Dict::set(const std::string& key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  entries.emplace_back(key, std::move(value));
}

}  // namespace qwen3vl::jinja
