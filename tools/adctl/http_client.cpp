#include "tools/adctl/http_client.hpp"

#include "tools/adctl/cli.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <cstdio>
#include <thread>

#include <poll.h>

namespace adctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Before the one retry of a GET whose fresh connection failed: a node that
/// is restarting gets a moment.
constexpr auto retry_pause = std::chrono::milliseconds(250);

/// "Connection refused" -> "connection refused": the message ends a sentence.
std::string lower_first(std::string s) {
  if (!s.empty())
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

/// 30000 ms -> "30", 1500 ms -> "1.5".
std::string seconds_text(std::chrono::milliseconds t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(t.count()) / 1000.0);
  return buf;
}

bool closed_by_peer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof
         || ec == http::error::partial_message;
}

}  // namespace

endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw usage_error("--url must start with http:// (got '" + url + "')");
  endpoint e;
  e.url = url;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string::npos)
    e.prefix = rest.substr(slash);
  while (!e.prefix.empty() && e.prefix.back() == '/')
    e.prefix.pop_back();
  e.host = authority;
  e.port = "80";
  if (!authority.empty() && authority[0] == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string::npos
        || (close + 1 < authority.size() && authority[close + 1] != ':'))
      throw usage_error("--url has a bad IPv6 address: '" + url + "'");
    e.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size())
      e.port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    e.host = authority.substr(0, colon);
    e.port = authority.substr(colon + 1);
    if (e.host.find(':') != std::string::npos)
      throw usage_error("--url needs an IPv6 address in brackets, e.g. http://[::1]:8080 (got '"
                        + url + "')");
  }
  bool port_ok = !e.port.empty() && e.port.size() <= 5;
  for (char c : e.port)
    port_ok = port_ok && std::isdigit(static_cast<unsigned char>(c));
  if (e.host.empty() || !port_ok || std::stoi(e.port) > 65535)
    throw usage_error("--url must look like http://HOST:PORT (got '" + url + "')");
  return e;
}

std::string host_header(const endpoint& e) {
  std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  if (e.port != "80")
    host += ":" + e.port;
  return host;
}

struct http_client::impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void disconnect() {
    connected = false;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }

  /// Runs the asynchronous operations started on the stream to their end.
  /// (The stream's expiry applies only to asynchronous operations: this is
  /// how a blocking request gets its timeout.)
  void run() {
    ioc.restart();
    ioc.run();
  }

  /// A kept-alive connection on which the node has since said something
  /// (it only ever closes it, unasked): not to be used for a request that
  /// must not be sent twice.
  bool closed_meanwhile() {
    pollfd p{stream.socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }
};

http_client::http_client(endpoint where, std::chrono::milliseconds timeout)
  : where_(std::move(where)), timeout_(timeout), impl_(new impl) {
}

http_client::~http_client() {
  impl_->disconnect();
}

http_response http_client::request(const std::string& method, const std::string& target,
                                   const std::string& bearer, const std::string& body) {
  // Only a GET changes nothing on the node: only a GET may be sent twice.
  const bool retry_allowed = method == "GET";
  http::request<http::string_body> req{http::string_to_verb(method), where_.prefix + target, 11};
  req.set(http::field::host, host_header(where_));
  req.set(http::field::user_agent, "adctl");
  req.set(http::field::accept, "application/json");
  if (!bearer.empty())
    req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty())
    req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();

  for (int attempt = 1;; ++attempt) {
    const bool may_retry = retry_allowed && attempt == 1;
    if (impl_->connected && !retry_allowed && impl_->closed_meanwhile())
      impl_->disconnect();  // nothing was sent on it: a fresh connection is no retry
    const bool reused = impl_->connected;
    beast::error_code ec;
    if (!impl_->connected) {
      tcp::resolver resolver{impl_->ioc};
      auto addresses = resolver.resolve(where_.host, where_.port, ec);
      if (ec)
        throw connection_error(lower_first(ec.message()));
      impl_->stream.expires_after(timeout_);
      impl_->stream.async_connect(
        addresses, [&ec](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
      impl_->run();
      if (ec) {
        impl_->disconnect();
        if (ec == beast::error::timeout)
          throw connection_error("no connection within " + seconds_text(timeout_) + " s");
        if (may_retry) {
          std::this_thread::sleep_for(retry_pause);
          continue;
        }
        throw connection_error(lower_first(ec.message()));
      }
      impl_->buffer.clear();
      impl_->connected = true;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    // The timeout covers sending the request and reading the whole answer.
    impl_->stream.expires_after(timeout_);
    http::async_write(impl_->stream, req, [&](const beast::error_code& e, size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(impl_->stream, impl_->buffer, parser,
                       [&ec](const beast::error_code& e2, size_t) { ec = e2; });
    });
    impl_->run();
    if (ec) {
      impl_->disconnect();
      if (ec == beast::error::timeout)
        throw connection_error("no answer within " + seconds_text(timeout_) + " s");
      if (may_retry) {
        // A kept-alive connection the node closed while we were idle is
        // retried at once; a fresh one that failed after a moment.
        if (!reused)
          std::this_thread::sleep_for(retry_pause);
        continue;
      }
      throw connection_error(closed_by_peer(ec) ? std::string{"the node closed the connection "
                                                              "without an answer"}
                                                : lower_first(ec.message()));
    }
    auto res = parser.release();
    if (!res.keep_alive())
      impl_->disconnect();
    return {static_cast<int>(res.result_int()), res.body()};
  }
}

}  // namespace adctl
