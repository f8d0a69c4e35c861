// Tells whether the client of the request being handled is still connected,
// without reading from its socket.
//
// Why this exists: cpp-httplib 0.11 (Debian 12) has no
// Request::is_connection_closed(), and a handler that waits for a long
// generation never writes until it is done, so a client that gave up would
// keep its slot busy. The handler finds its own socket by the connection's
// addresses (a TCP connection is identified by its local and remote address
// and port) and peeks at it: an orderly close or a reset shows as EOF/error,
// while pending bytes (a pipelined next request) or nothing at all mean the
// client is still there. The socket stays open and owned by httplib while the
// handler runs, so the descriptor found cannot be reused under us.
#pragma once
#include <string>

namespace qwen3vl::server {

class ConnectionProbe {
 public:
  // Finds the socket whose local and peer addresses are these (as httplib's
  // Request reports them). An unknown connection probes as connected.
  ConnectionProbe(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);

  bool found() const { return fd_ >= 0; }
  // False once the client has closed or reset the connection.
  bool connected() const;

 private:
  int fd_ = -1;
};

}  // namespace qwen3vl::server
