#include "server/api_error.h"

namespace qwen3vl::server {

Json ApiError::body() const {
  Json e = Json::object();
  e["message"] = what();
  e["type"] = type_;
  e["param"] = param_.empty() ? Json(nullptr) : Json(param_);
  e["code"] = code_.empty() ? Json(nullptr) : Json(code_);
  return Json{{"error", e}};
}

ApiError invalid_request(const std::string& message, const std::string& param, const std::string& code) {
  return ApiError(400, "invalid_request_error", message, param, code);
}

const char* error_type_for_status(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 408: return "timeout_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace qwen3vl::server
