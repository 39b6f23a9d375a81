#pragma once
// The Boost.Beast HTTP/1.1 keep-alive server. Reads each request with size
// limits and timeouts, hands it to the router, writes the reply when the
// handler answers. No Beast in this header.
#include "net/router.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace adserver::net {

struct http_options {
  std::string address = "127.0.0.1";
  int port = 8080;
  int threads = 2;
  int64_t body_limit = 1 << 20;
  int64_t header_limit = 8 << 10;
  int64_t idle_timeout_ms = 30000;
  int64_t max_connections = 10000;
  int64_t max_connections_per_address = 256;
  /// Every request is answered within its deadline: the result, or 503
  /// UNAVAILABLE with Retry-After when the handler has not answered.
  int64_t api_deadline_ms = 2000;
  int64_t admin_deadline_ms = 10000;
  /// Actors drop a request's work this long before its HTTP deadline, so
  /// work still running cannot finish after the client was told it failed.
  int64_t deadline_margin_ms = 500;
};

/// Raises RLIMIT_NOFILE to at least `needed` (up to the hard limit). Empty
/// string, or a warning saying why it could not.
std::string raise_open_file_limit(int64_t needed);

/// The HTTP deadline of a path (admin or public), in ms.
int64_t deadline_budget_ms(const http_options& opts, const std::string& path);
/// When actors stop working on a request that arrived at `now_ms`.
int64_t work_deadline_ms(const http_options& opts, const std::string& path, int64_t now_ms);

class http_server {
public:
  http_server(const router& routes, http_options options);
  ~http_server();
  /// Binds and starts the I/O threads. Empty string or the reason.
  std::string start();
  /// The bound port (useful with port 0).
  uint16_t port() const;
  /// Blocks until SIGINT or SIGTERM.
  void wait_for_shutdown_signal();
  /// Closes the listening socket; open connections are served on.
  void stop_accepting();
  /// Stops accepting, ends open event streams (`event: stream-end`, then
  /// close), waits up to `grace` until every request read has its answer
  /// (each has one within its deadline), then closes connections and
  /// joins the threads. Destroy the server only after the actors that may
  /// still hold a request's callback are gone (sessions point into it).
  void stop(std::chrono::milliseconds grace);
  /// Requests read and not yet answered.
  int64_t in_flight() const;
  int64_t open_connections() const;
  /// Server-Sent Events streams open (http_reply::stream); not in in_flight.
  int64_t open_streams() const;
  int64_t requests_served() const;
  /// Connections closed at once by http.max_connections or
  /// http.max_connections_per_address.
  int64_t connections_refused() const;
  /// Requests answered before routing because the HTTP itself was bad:
  /// 400 (malformed), 413 (body too large) or 431 (headers too large); 0
  /// for any other status.
  int64_t requests_refused(int status) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace adserver::net
