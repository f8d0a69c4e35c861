#include "qwen3vl/tokenizer/jinja/value_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qwen3vl/tokenizer/jinja/failure.h"
#include "qwen3vl/tokenizer/jinja/python_string.h"
#include "qwen3vl/tokenizer/jinja/value_format.h"

namespace qwen3vl::jinja {

Value value_from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List list;
      list.reserve(json.size());
      for (const auto& item : json) list.push_back(value_from_json(item));
      return Value(std::move(list));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict dict;
      for (auto it = json.begin(); it != json.end(); ++it) dict.set(it.key(), value_from_json(it.value()));
      return Value(std::move(dict));
    }
    default:
      return Value::none();
  }
}

namespace {

void append_u_escape(std::string& out, uint32_t unit) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "\\u%04x", unit);
  out += hex;
}

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) append_u_escape(out, c);
          else out += static_cast<char>(c);
      }
      continue;
    }
    size_t start = i;
    uint32_t code = decode_utf8_at(s, i);
    if (!ensure_ascii) {
      out.append(s, start, i - start);
    } else if (code >= 0x10000) {
      uint32_t v = code - 0x10000;
      append_u_escape(out, 0xD800 + (v >> 10));
      append_u_escape(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_u_escape(out, code);
    }
  }
  out += '"';
}

constexpr int kMaxJsonDepth = 512;

void dump(std::string& out, const Value& value, const JsonDumpOptions& options, int depth) {
  if (depth > kMaxJsonDepth) throw Failure("tojson: value nested too deeply");
  auto newline_and_indent = [&](int level) {
    out += '\n';
    for (int k = 0; k < level; ++k) out += *options.indent;
  };
  switch (value.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += value.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(value.as_int()); return;
    case Value::Kind::Float: {
      double f = value.as_double();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f < 0 ? "-Infinity" : "Infinity";
      else out += python_float_repr(f);
      return;
    }
    case Value::Kind::String: dump_string(out, value.as_string(), options.ensure_ascii); return;
    case Value::Kind::List: {
      const List& list = value.as_list();
      if (list.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < list.size(); ++k) {
        if (k) out += options.item_separator;
        if (options.indent) newline_and_indent(depth + 1);
        dump(out, list[k], options, depth + 1);
      }
      if (options.indent) newline_and_indent(depth);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      const Dict& dict = value.as_dict();
      if (dict.size() == 0) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : dict.entries) entries.push_back(&entry);
      if (options.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t k = 0; k < entries.size(); ++k) {
        if (k) out += options.item_separator;
        if (options.indent) newline_and_indent(depth + 1);
        dump_string(out, entries[k]->first, options.ensure_ascii);
        out += options.key_separator;
        dump(out, entries[k]->second, options, depth + 1);
      }
      if (options.indent) newline_and_indent(depth);
      out += '}';
      return;
    }
    default:
      throw Failure("tojson: Object of type " + value.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string json_dumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  dump(out, value, options, 0);
  return out;
}

}  // namespace qwen3vl::jinja
