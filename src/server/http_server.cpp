#include "server/http_server.h"

#include <httplib.h>

#include <ctime>
#include <filesystem>

#include "qwen3vl/base/error.h"
#include "qwen3vl/qwen3vl.h"
#include "server/api_error.h"
#include "server/api_key.h"
#include "server/chat_endpoint.h"
#include "server/chat_response.h"
#include "server/generation_backend.h"
#include "server/server_context.h"

namespace qwen3vl::server {

namespace {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(dump_json(e.body()), "application/json");
}

// Runs a route, turning every failure into an OpenAI-shaped error and
// counting the outcome. Nothing a request does may escape into httplib (or
// take the process down).
template <typename Fn>
httplib::Server::Handler guarded(ServerContext& ctx, bool count, Fn fn) {
  return [&ctx, count, fn](const httplib::Request& req, httplib::Response& res) {
    try {
      fn(req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const Error& e) {
      send_error(res, invalid_request(e.what()));
    } catch (const std::bad_alloc&) {
      send_error(res, ApiError(503, "service_unavailable_error", "out of memory"));
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, "server_error", std::string("internal error: ") + e.what()));
    }
    if (count) ctx.metrics.count_request(res.status);
  };
}

Json model_object(const ServerContext& ctx) {
  return Json{{"id", ctx.model_name}, {"object", "model"}, {"created", ctx.created}, {"owned_by", "qwen3vl"}};
}

}  // namespace

HttpServer::HttpServer(ServerOptions options) : ctx_(std::make_unique<ServerContext>()) {
  ctx_->options = std::move(options);
  http_ = std::make_unique<httplib::Server>();
  add_routes();
}

HttpServer::~HttpServer() {
  if (listener_.joinable()) shutdown();
}

void HttpServer::add_routes() {
  ServerContext& ctx = *ctx_;
  httplib::Server& http = *http_;
  const ServerOptions& o = ctx.options;
  int threads = o.http_threads > 0 ? o.http_threads : std::max(32, 2 * o.parallel + 16);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(static_cast<size_t>(o.max_body_bytes));
  http.set_read_timeout(o.read_timeout_s, 0);
  http.set_write_timeout(o.read_timeout_s, 0);
  // An idle keep-alive connection holds a thread: no longer than a read.
  http.set_keep_alive_timeout(std::min(5, o.read_timeout_s));
  http.set_default_headers({{"Access-Control-Allow-Origin", "*"}});

  // Authentication before routing, for everything but /health (load
  // balancers probe it without credentials).
  http.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "OPTIONS" || req.path == "/health" || ctx.options.api_key.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    if (authorized(req.get_header_value("Authorization"), ctx.options.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, "authentication_error",
                             req.has_header("Authorization") ? "incorrect API key" :
                                                               "missing API key (send Authorization: Bearer KEY)",
                             "", "invalid_api_key"));
    ctx.metrics.count_request(401);
    return httplib::Server::HandlerResponse::Handled;
  });

  // httplib's own refusals (unknown route, body too large, unparsable HTTP)
  // get an OpenAI-shaped body too.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "no route " + req.method + " " + req.path;
    if (res.status == 413) message = "the request body is larger than the server accepts (--max-body)";
    if (res.status == 400) message = "malformed HTTP request";
    send_error(res, ApiError(res.status, error_type_for_status(res.status), message));
  });

  http.Options(R"(.*)", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.status = 204;
  });

  http.Get("/health", guarded(ctx, false, [&ctx](const httplib::Request&, httplib::Response& res) {
    const char* status = ctx.draining ? "shutting down" : ctx.ready ? "ok" : "loading";
    res.status = ctx.ready && !ctx.draining ? 200 : 503;
    res.set_content(dump_json(Json{{"status", status}}), "application/json");
  }));

  http.Get("/metrics", guarded(ctx, false, [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx.metrics.prometheus_text(ctx.options.parallel), "text/plain; version=0.0.4");
  }));

  auto models = [&ctx](const httplib::Request&, httplib::Response& res) {
    if (!ctx.ready) throw ApiError(503, "service_unavailable_error", "the model is still loading");
    res.set_content(dump_json(Json{{"object", "list"}, {"data", Json::array({model_object(ctx)})}}),
                    "application/json");
  };
  http.Get("/v1/models", guarded(ctx, true, models));
  http.Get("/models", guarded(ctx, true, models));
  http.Get(R"(/v1/models/(.+))", guarded(ctx, true, [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.ready) throw ApiError(503, "service_unavailable_error", "the model is still loading");
    if (req.matches[1] != ctx.model_name)
      throw ApiError(404, "not_found_error", "no model \"" + std::string(req.matches[1]) + "\"", "model",
                     "model_not_found");
    res.set_content(dump_json(model_object(ctx)), "application/json");
  }));

  auto chat = [&ctx](const httplib::Request& req, httplib::Response& res) { handle_chat_completion(ctx, req, res); };
  http.Post("/v1/chat/completions", guarded(ctx, true, chat));
  http.Post("/chat/completions", guarded(ctx, true, chat));
}

int HttpServer::start() {
  const ServerOptions& o = ctx_->options;
  int port = o.port;
  if (port == 0) {
    port = http_->bind_to_any_port(o.host);
    if (port < 0) throw Error("cannot listen on " + o.host + " (any port)");
  } else if (!http_->bind_to_port(o.host, port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
  }
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  return port;
}

void HttpServer::set_model(std::shared_ptr<const Model> model) {
  ServerContext& ctx = *ctx_;
  const ServerOptions& o = ctx.options;
  ctx.model_name = o.model_name;
  if (ctx.model_name.empty())
    ctx.model_name = model->is_default_model() ? "qwen3vl-embedded-tiny"
                                               : std::filesystem::path(model->path()).filename().string();
  if (ctx.model_name.empty()) ctx.model_name = model->path();
  ctx.context_length = model->load_options().context_length;
  ctx.created = static_cast<int64_t>(std::time(nullptr));
  const SessionBackendOptions backend_options{o.parallel, o.encoding_cache_bytes, o.prefill_chunk_rows};
  std::unique_ptr<GenerationBackend> backend = o.scripted_output_file.empty()
                                                   ? make_session_backend(model, backend_options, &ctx.metrics)
                                                   : make_scripted_backend(model, o.scripted_output_file);
  ctx.scheduler = std::make_unique<Scheduler>(std::move(backend), ctx.metrics, o.max_queue, o.parallel);
  ctx.model = std::move(model);
  ctx.ready = true;
}

void HttpServer::shutdown() {
  ServerContext& ctx = *ctx_;
  ctx.draining = true;
  http_->stop();  // no new connections; handlers already running continue
  if (ctx.scheduler) {
    ctx.scheduler->stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ctx.options.shutdown_grace_s);
    while (!ctx.scheduler->idle() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx.scheduler->cancel_running();
  }
  if (listener_.joinable()) listener_.join();  // returns once every handler has returned
  ctx.scheduler.reset();
}

}  // namespace qwen3vl::server
