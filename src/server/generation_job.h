// One accepted chat request travelling between the HTTP thread that answers
// it and the scheduler that runs it: the request, the text produced so far,
// the outcome, and a cancel flag the HTTP side raises when the client leaves.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "qwen3vl/qwen3vl.h"
#include "server/api_error.h"

namespace qwen3vl::server {

struct BackendResult {
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t completion_tokens = 0;
  std::string finish_reason = "stop";  // "stop" or "length"
  double decode_seconds = 0;           // time spent producing the completion tokens
  bool decode_in_metrics = false;      // the backend reported its decode steps itself
  int images_encoded = 0;              // run through the vision encoder
  int images_from_cache = 0;           // vision features found in the encoding cache
};

class GenerationJob {
 public:
  GenerationJob(Json messages, GenerateOptions options)
      : messages_(std::move(messages)), options_(std::move(options)) {}

  const Json& messages() const { return messages_; }  // OpenAI messages, images as data: URIs
  const GenerateOptions& options() const { return options_; }

  // --- HTTP side ---
  struct Update {
    std::string text;  // new since the previous wait()
    bool finished = false;
    BackendResult result;
    std::optional<ApiError> error;  // set when finished with a failure
  };
  // Returns as soon as there is new text or the job finished, else after
  // `timeout` with an empty update.
  Update wait(std::chrono::milliseconds timeout);
  void cancel() { cancelled_ = true; }
  // True once the prompt is known to leave the model inside <think>; valid
  // from the first update with text or the finish.
  bool opens_reasoning() const { return opens_reasoning_; }

  // --- scheduler side ---
  bool cancelled() const { return cancelled_; }
  void set_opens_reasoning(bool v) { opens_reasoning_ = v; }
  // Returns false when the client is gone (stop generating).
  bool append(std::string_view text);
  void finish(const BackendResult& result);
  void fail(const ApiError& error);

 private:
  const Json messages_;
  const GenerateOptions options_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> opens_reasoning_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  bool finished_ = false;
  BackendResult result_;
  std::optional<ApiError> error_;
};

}  // namespace qwen3vl::server
