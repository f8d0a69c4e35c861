#include "server/request_json.h"

#include "qwen3vl/base/error.h"
#include "server/api_error.h"

namespace qwen3vl::server {

Json parse_request_json(std::string_view body, int max_depth) {
  if (body.empty()) throw invalid_request("the request body is empty; send a JSON object");
  // The library's one depth check, before anything builds or walks a tree.
  try {
    check_json_text_depth(body, "the request body", max_depth);
  } catch (const Error& e) {
    throw invalid_request(e.what());
  }
  try {
    return Json::parse(body);
  } catch (const Json::parse_error& e) {
    throw invalid_request(std::string("the request body is not valid JSON: ") + e.what());
  }
}

}  // namespace qwen3vl::server
