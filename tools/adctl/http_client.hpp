#pragma once
// A blocking HTTP/1.1 client over one keep-alive connection (Boost.Beast,
// only in http_client.cpp). `adctl top` and page walks reuse the connection.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace adctl {

/// Where a node listens: from "http://host:port[/prefix]".
struct endpoint {
  std::string host;
  std::string port;
  std::string prefix;  // prepended to every target ("" or "/something")
  std::string url;     // as given, for messages
};

/// Parses an http:// URL; usage_error for anything else.
endpoint parse_url(const std::string& url);

/// No answer: could not resolve, connect, send or read ("connection refused").
struct connection_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct http_response {
  int status = 0;
  std::string body;
};

/// "host:port" as the Host header carries it: the port unless it is 80, an
/// IPv6 address in brackets ("[::1]:8080").
std::string host_header(const endpoint& e);

class http_client {
public:
  /// `timeout`: how long connecting, and then sending a request and reading
  /// its answer, may take each.
  http_client(endpoint where, std::chrono::milliseconds timeout);
  ~http_client();
  /// Sends one request (with the bearer token unless empty). Only a GET is
  /// retried, once, when its connection fails (refused, reset, or a kept-alive
  /// connection the node closed meanwhile); nothing is retried after the
  /// timeout. Another method goes out on a fresh connection when the kept one
  /// was closed by the node, and is never sent twice.
  http_response request(const std::string& method, const std::string& target,
                        const std::string& bearer, const std::string& body = "");
  const endpoint& where() const { return where_; }

private:
  struct impl;
  endpoint where_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<impl> impl_;
};

}  // namespace adctl
