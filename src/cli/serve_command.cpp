#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "server/http_server.h"

namespace qwen3vl::cli {

namespace {

// Every number is range-checked by Args (UsageError naming the option, exit 2).
server::ServerOptions server_options_from_args(const Args& args) {
  server::ServerOptions o;
  o.host = args.get("host", o.host);
  o.port = args.get_int("port", o.port, 0, 65535);
  o.api_key = args.get("api-key");
  if (o.api_key.empty())
    if (const char* env = std::getenv("QWEN3VL_API_KEY")) o.api_key = env;
  o.model_name = args.get("alias");
  o.parallel = args.get_int("parallel", o.parallel, 1, 1024);
  o.prefill_chunk_rows = args.get_int64("prefill-chunk", o.prefill_chunk_rows, 1);
  o.max_queue = args.get_int("max-queue", o.max_queue, 0);
  o.http_threads = args.get_int("http-threads", 0, 0, 4096);
  o.max_body_bytes = args.get_int64("max-body", o.max_body_bytes, 1);
  o.read_timeout_s = args.get_int("read-timeout", o.read_timeout_s, 1);
  o.shutdown_grace_s = args.get_int("shutdown-grace", o.shutdown_grace_s, 0);
  if (args.has("allow-local-images")) {
    const std::string dir = args.get("allow-local-images");
    if (!std::filesystem::is_directory(dir)) args.fail("--allow-local-images: " + dir + " is not a directory");
    o.images.local_root = std::filesystem::canonical(dir).string();
  }
  o.images.allow_remote = args.has("allow-remote-images");
  o.images.max_image_bytes = args.get_int64("max-image-bytes", o.images.max_image_bytes, 1);
  o.images.max_image_pixels = args.get_int64("max-image-pixels", o.images.max_image_pixels, 1);
  o.images.max_images_per_request = args.get_int("max-images", o.images.max_images_per_request, 0);
  o.images.remote_timeout_ms = args.get_int("remote-timeout", o.images.remote_timeout_ms, 1);
  // The upper bound only keeps the byte count from overflowing.
  o.encoding_cache_bytes = static_cast<size_t>(args.get_int64("image-cache-mb", 256, 0, 1LL << 30)) << 20;
  o.scripted_output_file = args.get("scripted-output");
  return o;
}

}  // namespace

int serve_command(int argc, char** argv) {
  Args args("serve",
            "An OpenAI-compatible HTTP server: POST /v1/chat/completions (images, streaming, tools, reasoning),\n"
            "GET /v1/models, /health, /metrics. Listens on loopback unless --host says otherwise.");
  add_model_options(args);
  args.value("--host", "ADDR", "address to listen on (default 127.0.0.1)")
      .value("--port", "N", "port (default 8080; 0 picks a free one, printed at start)")
      .value("--api-key", "KEY", "require Authorization: Bearer KEY (default: $QWEN3VL_API_KEY, else none)")
      .value("--alias", "NAME", "model id reported by /v1/models (default: the model's folder or file name)")
      .value("--parallel", "N", "slots: requests decoded together in one pass over the weights, each keeping its KV cache for its next turn (default 1)")
      .value("--prefill-chunk", "N", "prompt rows prefilled per step while other requests decode, so their answers keep flowing (default 128)")
      .value("--image-cache-mb", "MB", "vision features of recent images kept for reuse (default 256)")
      .value("--max-queue", "N", "requests that may wait for a slot; more get 503 (default 256)")
      .value("--allow-local-images", "DIR", "accept image paths, confined to DIR (symlinks resolved)")
      .flag("--allow-remote-images", "fetch http(s) image URLs (size and time limited)")
      .value("--remote-timeout", "MS", "time limit of one image download (default 15000)")
      .value("--max-body", "BYTES", "largest request body (default 64 MiB)")
      .value("--max-image-bytes", "BYTES", "largest encoded image (default 20 MiB)")
      .value("--max-image-pixels", "N", "largest image width*height, checked before decoding (default 40000000)")
      .value("--max-images", "N", "images per request (default 16)")
      .value("--read-timeout", "S", "drop a client that sends nothing for S seconds (default 30)")
      .value("--shutdown-grace", "S", "on SIGTERM, let running requests finish for up to S seconds (default 10)")
      .value("--http-threads", "N", "connection threads (default max(32, 2*parallel+16))")
      .value("--scripted-output", "FILE", "testing only: answer with the texts in FILE instead of the decoder")
      .flag("-q,--quiet", "no progress bar while loading");
  if (!args.parse(argc, argv, 2)) return 0;
  const server::ServerOptions options = server_options_from_args(args);

  // Signals are taken by sigwait() below, never by a handler: block them
  // before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // the loader's "failed" message
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not a death

  server::HttpServer http(options);
  const int port = http.start();
  std::cout << "qwen3vl serve: listening on http://" << options.host << ":" << port << std::endl;

  std::atomic<bool> loaded{false};
  std::mutex load_error_mutex;
  std::string load_error;
  std::thread loader([&] {
    try {
      http.set_model(load_model_from_args(args, args.has("quiet")));
      loaded = true;
      std::cout << "qwen3vl serve: model loaded, ready" << std::endl;
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(load_error_mutex);
      load_error = e.what();
      kill(getpid(), SIGUSR1);
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  if (sig == SIGUSR1) {
    loader.join();
    http.shutdown();
    std::lock_guard<std::mutex> lock(load_error_mutex);
    std::cerr << "qwen3vl: error: " << load_error << "\n";
    return 1;
  }
  if (!loaded) {
    // Loading cannot be interrupted; nothing is being served yet.
    std::cerr << "qwen3vl serve: stopped while loading\n";
    std::_Exit(0);
  }
  loader.join();
  std::cout << "qwen3vl serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", finishing running requests and stopping" << std::endl;
  http.shutdown();
  std::cout << "qwen3vl serve: stopped" << std::endl;
  return 0;
}

}  // namespace qwen3vl::cli
