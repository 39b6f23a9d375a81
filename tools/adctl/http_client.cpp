#include "tools/adctl/http_client.hpp"

#include "tools/adctl/cli.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>

namespace adctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// The node answers /admin within its admin deadline (10 s by default);
/// beyond this margin it is hung, not slow.
constexpr auto io_timeout = std::chrono::seconds(15);

/// "Connection refused" -> "connection refused": the message ends a sentence.
std::string lower_first(std::string s) {
  if (!s.empty())
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
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
    if (close == std::string::npos)
      throw usage_error("--url has a bad IPv6 address: '" + url + "'");
    e.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      e.port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    e.host = authority.substr(0, colon);
    e.port = authority.substr(colon + 1);
  }
  bool port_ok = !e.port.empty() && e.port.size() <= 5;
  for (char c : e.port)
    port_ok = port_ok && std::isdigit(static_cast<unsigned char>(c));
  if (e.host.empty() || !port_ok || std::stoi(e.port) > 65535)
    throw usage_error("--url must look like http://HOST:PORT (got '" + url + "')");
  return e;
}

struct http_client::impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
};

http_client::http_client(endpoint where) : where_(std::move(where)), impl_(new impl) {
}

http_client::~http_client() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

http_response http_client::request(const std::string& method, const std::string& target,
                                   const std::string& bearer, const std::string& body) {
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->connected;
    if (!impl_->connected) {
      tcp::resolver resolver{impl_->ioc};
      auto addresses = resolver.resolve(where_.host, where_.port, ec);
      if (ec)
        throw connection_error(lower_first(ec.message()));
      impl_->stream.expires_after(io_timeout);
      impl_->stream.connect(addresses, ec);
      if (ec)
        throw connection_error(lower_first(ec.message()));
      impl_->buffer.clear();
      impl_->connected = true;
    }
    http::request<http::string_body> req{http::string_to_verb(method), where_.prefix + target, 11};
    req.set(http::field::host, where_.host);
    req.set(http::field::user_agent, "adctl");
    req.set(http::field::accept, "application/json");
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
    if (!body.empty())
      req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    impl_->stream.expires_after(io_timeout);
    http::write(impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec)
      http::read(impl_->stream, impl_->buffer, parser, ec);
    if (ec) {
      impl_->connected = false;
      beast::error_code ignored;
      impl_->stream.socket().close(ignored);
      // A kept-alive connection the node closed while we were idle: once more.
      if (reused)
        continue;
      throw connection_error(lower_first(ec == beast::error::timeout ? std::string{"no answer within 15 s"}
                                                                     : ec.message()));
    }
    auto res = parser.release();
    if (!res.keep_alive())
      impl_->connected = false;
    return {static_cast<int>(res.result_int()), res.body()};
  }
  throw connection_error(lower_first(ec.message()));
}

}  // namespace adctl
