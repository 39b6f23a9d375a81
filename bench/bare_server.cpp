// Baseline for benchmarks: a bare Boost.Beast HTTP/1.1 keep-alive server on
// the same threads and settings as adserver's, answering a fixed JSON body.
// adserver's requests/s are reported as a share of this server's.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The answer: a file's contents (bench/ad-requests passes one adserver answer,
// so both servers send the same bytes), else a small fixed ad list.
std::string body =
  R"({"request_id":"00000000-0000-4000-8000-000000000000","ads":[{"product_id":"P1",)"
  R"("original_product_id":"P1","ad_id":"ad_1","campaign_id":1,"rank":1,)"
  R"("experiment_applied":false,"token":"x"}]})";

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket s) : stream_(std::move(s)) {
  }
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec)
        return;
      auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, 11);
      res->set(http::field::content_type, "application/json");
      res->keep_alive(self->req_.keep_alive());
      res->body() = body;
      res->prepare_payload();
      http::async_write(self->stream_, *res, [self, res](beast::error_code ec, size_t) {
        if (!ec && res->keep_alive())
          self->read();
      });
    });
  }

private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
};

void accept(tcp::acceptor& a, asio::io_context& ioc) {
  a.async_accept(asio::make_strand(ioc), [&](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(s))->read();
    }
    accept(a, ioc);
  });
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 18090;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  if (argc > 3) {
    std::ifstream in{argv[3]};
    std::stringstream text;
    text << in.rdbuf();
    body = text.str();
  }
  asio::io_context ioc{threads};
  tcp::acceptor a{ioc, {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}};
  accept(a, ioc);
  std::cout << "bare server on 127.0.0.1:" << port << std::endl;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&] { ioc.run(); });
  for (auto& t : ts)
    t.join();
}
