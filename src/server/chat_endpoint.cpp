#include "server/chat_endpoint.h"

#include <httplib.h>

#include <ctime>

#include "qwen3vl/base/error.h"
#include "qwen3vl/runtime/messages.h"
#include "server/api_error.h"
#include "server/assistant_output_parser.h"
#include "server/chat_request.h"
#include "server/chat_response.h"
#include "server/connection_probe.h"
#include "server/image_sources.h"
#include "server/remote_image_fetch.h"
#include "server/request_json.h"
#include "server/server_context.h"

namespace qwen3vl::server {

namespace {

constexpr std::chrono::milliseconds kPoll{100};

// Everything one answer needs after the handler returns (a stream is written
// by httplib calling back into the content provider).
struct Answer {
  ServerContext* ctx = nullptr;
  std::shared_ptr<GenerationJob> job;
  ConnectionProbe probe;
  CompletionIdentity who;
  bool parse_tool_calls = false;
  bool include_usage = false;
  GenerationJob::Update first;
  std::unique_ptr<AssistantOutputParser> parser;

  Answer(const httplib::Request& req) : probe(req.local_addr, req.local_port, req.remote_addr, req.remote_port) {}

  void client_gone() {
    job->cancel();
    ctx->metrics.count_cancelled();
  }

  // Waits for the job's first text (or its end); false if the client left.
  bool wait_for_first_output() {
    for (;;) {
      first = job->wait(kPoll);
      if (!first.text.empty() || first.finished) break;
      if (!probe.connected()) return false;
    }
    AssistantOutputParser::Options po;
    po.starts_in_reasoning = job->opens_reasoning();
    po.parse_tool_calls = parse_tool_calls;
    parser = std::make_unique<AssistantOutputParser>(po);
    return true;
  }

  std::string finish_reason(const BackendResult& r) const {
    if (r.finish_reason == "stop" && !parser->tool_calls().empty()) return "tool_calls";
    return r.finish_reason;
  }

  Usage usage(const BackendResult& r) const { return {r.prompt_tokens, r.completion_tokens, r.cached_tokens}; }
};

void answer_whole(const std::shared_ptr<Answer>& a, httplib::Response& res) {
  GenerationJob::Update u = std::move(a->first);
  for (;;) {
    if (!u.text.empty()) a->parser->push(u.text);
    if (u.finished) break;
    u = a->job->wait(kPoll);
    if (u.text.empty() && !u.finished && !a->probe.connected()) {
      a->client_gone();
      res.status = 499;
      return;
    }
  }
  if (u.error) throw *u.error;
  a->parser->finish();
  res.set_content(dump_json(completion_json(a->who, *a->parser, a->finish_reason(u.result), a->usage(u.result))),
                  "application/json");
}

void answer_stream(const std::shared_ptr<Answer>& a, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [a](size_t, httplib::DataSink& sink) {
    auto send = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
    auto send_delta = [&](const AssistantDelta& d) { return d.empty() || send(sse_event(chunk_json(a->who, delta_json(d)))); };
    if (!send(sse_event(chunk_json(a->who, Json{{"role", "assistant"}, {"content", ""}})))) {
      a->client_gone();
      return false;
    }
    GenerationJob::Update u = std::move(a->first);
    for (;;) {
      if (!u.text.empty() && !send_delta(a->parser->push(u.text))) {
        a->client_gone();
        return false;
      }
      if (u.finished) break;
      u = a->job->wait(kPoll);
      if (u.text.empty() && !u.finished && !a->probe.connected()) {
        a->client_gone();
        return false;
      }
    }
    if (u.error) {
      // The status line is long gone: report in-band, as OpenAI streams do.
      send(sse_event(u.error->body()));
    } else {
      if (!send_delta(a->parser->finish())) return false;
      send(sse_event(chunk_json(a->who, Json::object(), a->finish_reason(u.result))));
      if (a->include_usage) send(sse_event(usage_chunk_json(a->who, a->usage(u.result))));
    }
    send(kSseDone);
    sink.done();
    return true;
  });
}

}  // namespace

void handle_chat_completion(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (ctx.draining) throw ApiError(503, "service_unavailable_error", "the server is shutting down");
  if (!ctx.ready) throw ApiError(503, "service_unavailable_error", "the model is still loading; try again shortly");
  const Json body = parse_request_json(req.body, ctx.options.max_json_depth);
  ChatRequest chat = parse_chat_request(body, ctx.context_length, ctx.random_seed());
  const ImageSourcePolicy& policy = ctx.options.images;
  resolve_image_sources(chat.messages, policy, [&policy](const std::string& url) {
    return fetch_remote_image(url, {policy.max_image_bytes, policy.remote_timeout_ms});
  });
  chat.options.image.max_input_pixels = policy.max_image_pixels;
  try {
    normalize_messages(chat.messages);  // roles, part types: refused here with the message index
  } catch (const Error& e) {
    throw invalid_request(e.what(), "messages");
  }

  auto a = std::make_shared<Answer>(req);
  a->ctx = &ctx;
  a->job = std::make_shared<GenerationJob>(std::move(chat.messages), chat.options);
  a->who = {new_completion_id(), ctx.model_name, static_cast<int64_t>(std::time(nullptr))};
  a->parse_tool_calls = chat.parse_tool_calls;
  a->include_usage = chat.include_usage;
  ctx.scheduler->submit(a->job);
  if (!a->wait_for_first_output()) {
    a->client_gone();
    res.status = 499;  // nobody to answer; counted as a cancelled request
    return;
  }
  if (a->first.finished && a->first.error) throw *a->first.error;
  if (chat.stream) answer_stream(a, res);
  else answer_whole(a, res);
}

}  // namespace qwen3vl::server
