// What runs a job: the model through the library's Session (session_backend)
// or, for tests of the API layer, scripted answers (scripted_backend).
#pragma once
#include <memory>
#include <string>

#include "server/generation_job.h"
#include "server/metrics.h"

namespace qwen3vl {
class Model;
}

namespace qwen3vl::server {

class GenerationBackend {
 public:
  virtual ~GenerationBackend() = default;
  // Runs `job` to its end, appending text as it is produced and stopping
  // early when job.append() returns false or job.cancelled(). Called from
  // several threads at once (one job each, at most as many as the backend
  // was made for). Throws
  // qwen3vl::Error (or ApiError) when the request cannot be served.
  virtual BackendResult run(GenerationJob& job) = 0;
};

// The model over `slots` sessions, up to `slots` requests at once with their
// decode steps batched (continuous batching; each answer is what it would be
// alone): each session keeps its KV cache after its request, and a request
// goes to the free session whose conversation it continues (a next turn
// finds its earlier turns there), else to the least recently used one;
// vision features are shared through one encoding cache of
// `encoding_cache_bytes`. A prompt is prefilled in parts of
// `prefill_chunk_rows` between the running requests' decode steps. Decode
// steps and prompt parts are counted in `metrics` (may be null).
struct SessionBackendOptions {
  int slots = 1;
  size_t encoding_cache_bytes = size_t(256) << 20;
  int64_t prefill_chunk_rows = 128;
};
std::unique_ptr<GenerationBackend> make_session_backend(std::shared_ptr<const Model> model,
                                                        const SessionBackendOptions& options, Metrics* metrics);

// Answers with the texts of `script_file` (a JSON array; each entry a string,
// or {"echo_prompt": true} to answer with the rendered prompt as a JSON
// string literal, '<' written as \u003c), in turn,
// tokenized and streamed token by token. Prompts are rendered and counted
// with the model's own template and tokenizer, so everything but the
// decoder is real.
std::unique_ptr<GenerationBackend> make_scripted_backend(std::shared_ptr<const Model> model,
                                                         const std::string& script_file);

// The prompt text the model's chat template makes of a job's messages and
// template variables (what the Session tokenizes).
std::string render_prompt(const Model& model, const GenerationJob& job);

}  // namespace qwen3vl::server
