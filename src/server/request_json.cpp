#include "server/request_json.h"

#include "server/api_error.h"

namespace qwen3vl::server {

namespace {
struct TooDeep {};
}  // namespace

Json parse_request_json(std::string_view body, int max_depth) {
  if (body.empty()) throw invalid_request("the request body is empty; send a JSON object");
  try {
    // The callback sees every value with its depth as the parser builds the
    // tree; throwing stops the parse right there.
    return Json::parse(body, [max_depth](int depth, Json::parse_event_t event, Json&) {
      if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
          depth >= max_depth)
        throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    throw invalid_request("the request JSON is nested deeper than " + std::to_string(max_depth) + " levels");
  } catch (const Json::parse_error& e) {
    throw invalid_request(std::string("the request body is not valid JSON: ") + e.what());
  }
}

}  // namespace qwen3vl::server
