#pragma once
// A blocking HTTP/1.1 client over one keep-alive connection (Boost.Beast,
// only in http_client.cpp). `adctl top` and page walks reuse the connection.
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

class http_client {
public:
  explicit http_client(endpoint where);
  ~http_client();
  /// Sends one request (with the bearer token unless empty); reconnects once
  /// when a kept-alive connection was closed by the node meanwhile.
  http_response request(const std::string& method, const std::string& target,
                        const std::string& bearer, const std::string& body = "");
  const endpoint& where() const { return where_; }

private:
  struct impl;
  endpoint where_;
  std::unique_ptr<impl> impl_;
};

}  // namespace adctl
