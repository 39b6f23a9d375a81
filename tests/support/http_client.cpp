#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace adserver::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string http_result::header(const std::string& name) const {
  auto lower = [](std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  auto hs = lower(raw_headers);
  auto pos = hs.find("\n" + lower(name) + ":");
  if (pos == std::string::npos)
    return {};
  auto start = pos + name.size() + 2;
  auto end = raw_headers.find('\r', start);
  auto v = raw_headers.substr(start, end - start);
  while (!v.empty() && v.front() == ' ')
    v.erase(v.begin());
  return v;
}

struct http_client::impl {
  explicit impl(int p) : port(p), stream(ioc) {
  }
  bool connect() {
    beast::error_code ec;
    stream.socket().close(ec);
    stream.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)},
                   ec);
    connected = !ec;
    return connected;
  }
  int port;
  asio::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool connected = false;
};

http_client::http_client(int port) : impl_(new impl(port)) {
}

http_client::~http_client() = default;

http_result http_client::call(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& bearer,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  http_result out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->connected && !impl_->connect())
      return out;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
    for (auto& [name, value] : headers)
      req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    impl_->stream.expires_after(std::chrono::seconds(60));
    http::write(impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    // Even when the server stopped reading (e.g. 413), its reply may be there.
    http::read(impl_->stream, impl_->buffer, parser, ec);
    if (ec) {
      impl_->connected = false;
      impl_->buffer.clear();
      continue;  // the server may have closed an idle keep-alive connection
    }
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    std::ostringstream hs;
    hs << "\n";
    for (auto& f : res)
      hs << f.name_string() << ": " << f.value() << "\r\n";
    out.raw_headers = hs.str();
    out.json = nlohmann::json::parse(out.body, nullptr, false);
    if (!res.keep_alive())
      impl_->connected = false;
    return out;
  }
  return out;
}

http_result http_call(int port, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& bearer,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  http_client c{port};
  return c.call(method, target, body, bearer, headers);
}

}  // namespace adserver::testing
