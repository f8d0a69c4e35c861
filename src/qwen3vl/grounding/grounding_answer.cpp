#include "qwen3vl/grounding/grounding_answer.h"

#include <cmath>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"

namespace qwen3vl {

namespace {

// The text inside the first ```json (or bare ```) fence, or the whole answer
// when there is no fence. An unterminated fence runs to the end.
std::string_view fenced_or_whole(std::string_view answer) {
  const size_t open = answer.find("```");
  if (open == std::string_view::npos) return answer;
  size_t body = answer.find('\n', open);
  if (body == std::string_view::npos) return answer.substr(open + 3);
  ++body;
  const size_t close = answer.find("```", body);
  return answer.substr(body, close == std::string_view::npos ? std::string_view::npos : close - body);
}

// Index one past the bracket that closes the one at `start` ('[' or '{'),
// skipping strings; npos when the text ends first.
size_t matching_close(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

bool read_number(const Json& v, double& out) {
  if (!v.is_number()) return false;
  out = v.get<double>();
  return std::isfinite(out);
}

// Appends the box or point an object describes; returns false if it has neither.
bool add_item(const Json& obj, std::vector<GroundingItem>& items, const std::string& where) {
  if (!obj.is_object()) return false;
  GroundingItem item;
  const char* key = nullptr;
  size_t n = 0;
  if (obj.contains("bbox_2d")) key = "bbox_2d", n = 4, item.kind = GroundingItem::Kind::Box;
  else if (obj.contains("point_2d")) key = "point_2d", n = 2, item.kind = GroundingItem::Kind::Point;
  else return false;
  const Json& c = obj[key];
  if (!c.is_array() || c.size() != n)
    throw Error(where + ": \"" + key + "\" must be a list of " + std::to_string(n) + " numbers, got " + c.dump());
  for (size_t i = 0; i < n; ++i)
    if (!read_number(c[i], item.coords[i]))
      throw Error(where + ": \"" + key + "\" must be a list of " + std::to_string(n) + " numbers, got " + c.dump());
  if (obj.contains("label")) {
    const Json& l = obj["label"];
    item.label = l.is_string() ? l.get<std::string>() : l.dump();
  }
  items.push_back(std::move(item));
  return true;
}

void collect(const Json& doc, std::vector<GroundingItem>& items) {
  if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) add_item(doc[i], items, "grounding entry " + std::to_string(i + 1));
  } else {
    add_item(doc, items, "grounding entry");
  }
}

// Parses a list cut off before its closing bracket: every complete object in
// it, in order.
void collect_truncated_list(std::string_view text, std::vector<GroundingItem>& items) {
  size_t i = 1;
  int index = 0;
  while (true) {
    const size_t open = text.find('{', i);
    if (open == std::string_view::npos) return;
    const size_t close = matching_close(text, open);
    if (close == std::string_view::npos) return;
    const Json obj = parse_json(std::string(text.substr(open, close - open)), "the grounding answer");
    add_item(obj, items, "grounding entry " + std::to_string(++index));
    i = close;
  }
}

}  // namespace

std::vector<GroundingItem> parse_grounding_answer(std::string_view answer) {
  const std::string_view body = fenced_or_whole(answer);
  std::vector<GroundingItem> items;
  bool found_json = false;
  // Every top-level JSON value in the text, in order (an answer may give
  // several lists or one object per line).
  for (size_t pos = 0; pos < body.size();) {
    const size_t start = body.find_first_of("[{", pos);
    if (start == std::string_view::npos) break;
    const size_t end = matching_close(body, start);
    if (end == std::string_view::npos) {
      if (body[start] == '[') {
        found_json = true;
        collect_truncated_list(body.substr(start), items);
      } else if (!found_json) {
        throw Error("the grounding JSON in the answer is cut off: an object opened at character " +
                    std::to_string(start + 1) + " never closes");
      }
      break;
    }
    found_json = true;
    const std::string text(body.substr(start, end - start));
    Json doc;
    try {
      doc = Json::parse(text);
    } catch (const Json::parse_error& e) {
      throw Error("the grounding JSON in the answer is malformed: " + std::string(e.what()) + " in: " +
                  text.substr(0, 120) + (text.size() > 120 ? "..." : ""));
    }
    collect(doc, items);
    pos = end;
  }
  if (!found_json) throw Error("the answer holds no JSON with bbox_2d or point_2d entries");
  if (items.empty()) throw Error("the answer's JSON has no bbox_2d or point_2d entries");
  return items;
}

}  // namespace qwen3vl
