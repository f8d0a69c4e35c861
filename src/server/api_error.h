// Errors as OpenAI clients expect them: an HTTP status plus
// {"error": {"message", "type", "param", "code"}}. Everything the server
// refuses is thrown as an ApiError and turned into that shape at the edge, so
// SDKs raise their usual exception types (BadRequestError, AuthenticationError, ...).
#pragma once
#include <stdexcept>
#include <string>

#include "qwen3vl/base/json.h"

namespace qwen3vl::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = "", std::string code = "")
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

  // {"error": {...}}; param and code are null when empty.
  Json body() const;

 private:
  int status_;
  std::string type_, param_, code_;
};

// 400 invalid_request_error, naming the request field at fault.
ApiError invalid_request(const std::string& message, const std::string& param = "", const std::string& code = "");

// The OpenAI error type for a status without a more specific one.
const char* error_type_for_status(int status);

}  // namespace qwen3vl::server
