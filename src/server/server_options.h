// Everything `qwen3vl serve` can be told, with the defaults of the command.
#pragma once
#include <cstdint>
#include <string>

namespace qwen3vl::server {

// Where images in requests may come from. Data URIs are always accepted.
struct ImageSourcePolicy {
  std::string local_root;          // empty: local paths refused; else paths must resolve inside it
  bool allow_remote = false;       // http(s) URLs fetched with libcurl
  int64_t max_image_bytes = 20 << 20;    // encoded bytes of one image (data URI, file or download)
  int64_t max_image_pixels = 40'000'000; // width*height from the header, checked before decoding
  int remote_timeout_ms = 15000;   // whole download, connect included
  int max_images_per_request = 16;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;          // 0: any free port (printed at start)
  std::string api_key;      // empty: no authentication
  std::string model_name;   // the id /v1/models reports; empty: from the model path
  int parallel = 1;         // slots: conversations whose KV caches are kept (and decoded together)
  size_t encoding_cache_bytes = size_t(256) << 20;  // vision features kept for images seen again
  int64_t prefill_chunk_rows = 128;  // prompt rows prefilled per step while other requests decode
  int max_queue = 256;      // waiting requests beyond the running ones; more get 503
  int http_threads = 0;     // 0: enough for parallel + max_queue waiters, at least 32
  int64_t max_body_bytes = 64 << 20;
  int read_timeout_s = 30;  // a client that sends nothing for this long is dropped
  int shutdown_grace_s = 10;  // on SIGTERM, running requests get this long to finish
  int max_json_depth = 64;
  ImageSourcePolicy images;
  // Test seam: a JSON file with the texts the "model" answers in turn instead
  // of running the decoder (templates, tokens and usage stay real).
  std::string scripted_output_file;
};

}  // namespace qwen3vl::server
