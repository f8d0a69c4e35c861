// `qwen3vl serve`: the HTTP front of the server. Listens at once (so /health
// can say "loading"), takes the model when it is loaded, and shuts down in
// order: stop accepting, let running requests finish (up to the grace
// period), cancel the rest, return.
#pragma once
#include <memory>
#include <thread>

#include "server/server_options.h"

namespace httplib {
class Server;
}

namespace qwen3vl {
class Model;
}

namespace qwen3vl::server {

struct ServerContext;

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();

  // Binds the listening socket (throws Error naming host and port) and
  // starts answering on background threads. Returns the port.
  int start();
  // Serves `model` from now on (/health turns ready).
  void set_model(std::shared_ptr<const Model> model);
  // Graceful stop; safe to call once from any thread but a handler.
  void shutdown();

 private:
  void add_routes();

  std::unique_ptr<ServerContext> ctx_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
};

}  // namespace qwen3vl::server
