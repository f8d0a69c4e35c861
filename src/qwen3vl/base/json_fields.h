// Reading typed fields of a JSON config object, with errors that name the
// file (`where`) and the key: a missing required field, or a value of the
// wrong type, is a clear Error rather than a nlohmann exception.
#pragma once
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"

namespace qwen3vl {

template <typename T>
T json_required(const Json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) throw Error(where + ": missing \"" + key + "\"");
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": \"" + key + "\" has the wrong type (" + j[key].dump() + ")");
  }
}

// `fallback` when the key is absent or null.
template <typename T>
T json_optional(const Json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": \"" + key + "\" has the wrong type (" + j[key].dump() + ")");
  }
}

}  // namespace qwen3vl
