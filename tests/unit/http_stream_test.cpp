// Server-Sent Events on the HTTP server (net/event_stream.hpp): the header,
// events from another thread, heartbeats, the end after the duration, a
// client that leaves, and a server that stops with a stream open. A plain
// blocking socket plays the client.
#include "net/event_stream.hpp"
#include "net/http_server.hpp"
#include "net/router.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

using namespace adserver::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto generous = std::chrono::seconds(5);

/// What the stream handler hands out: the sink once open, on_close once.
struct stream_probe {
  std::promise<std::shared_ptr<event_sink>> opened;
  std::promise<void> closed;
  std::atomic<int> open_calls{0};
  std::atomic<int> close_calls{0};
};

/// A server whose GET /events answers with a stream of the given timings.
class stream_server {
public:
  stream_server(std::chrono::milliseconds duration, std::chrono::milliseconds heartbeat)
    : probe_(std::make_shared<stream_probe>()) {
    auto probe = probe_;
    routes_.add("GET", "/events", false,
                [probe, duration, heartbeat](route_context&, respond_fn respond) {
                  auto es = std::make_shared<event_stream>();
                  es->duration = duration;
                  es->heartbeat = heartbeat;
                  es->on_open = [probe](std::shared_ptr<event_sink> sink) {
                    if (probe->open_calls++ == 0)
                      probe->opened.set_value(std::move(sink));
                  };
                  es->on_close = [probe] {
                    if (probe->close_calls++ == 0)
                      probe->closed.set_value();
                  };
                  http_reply reply;
                  reply.stream = es;
                  reply.headers.emplace_back("X-Stream", "yes");
                  respond(std::move(reply));
                });
    http_options opts;
    opts.address = "127.0.0.1";
    opts.port = 0;
    opts.threads = 2;
    server_ = std::make_unique<http_server>(routes_, opts);
    auto err = server_->start();
    EXPECT_EQ(err, "");
  }

  ~stream_server() { server_->stop(0ms); }

  http_server& server() { return *server_; }
  stream_probe& probe() { return *probe_; }

private:
  router routes_;
  std::shared_ptr<stream_probe> probe_;
  std::unique_ptr<http_server> server_;
};

/// A blocking client with a read timeout.
class client {
public:
  explicit client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{};
    tv.tv_sec = 5;
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::string& text) { asio::write(socket_, asio::buffer(text)); }

  /// Reads until `text` is in what was read after `from`; false on timeout,
  /// EOF or error.
  bool read_until(const std::string& text, size_t from = 0) {
    auto until = std::chrono::steady_clock::now() + generous;
    while (received_.find(text, from) == std::string::npos) {
      if (std::chrono::steady_clock::now() > until || !read_some())
        return false;
    }
    return true;
  }

  /// Reads until the server closes; false if it does not within the wait.
  bool read_to_eof() {
    auto until = std::chrono::steady_clock::now() + generous;
    while (!eof_) {
      if (std::chrono::steady_clock::now() > until)
        return false;
      if (!read_some() && !eof_)
        return false;
    }
    return true;
  }

  void close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  const std::string& received() const { return received_; }

private:
  bool read_some() {
    char buf[4096];
    boost::system::error_code ec;
    auto n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::eof) {
      eof_ = true;
      return false;
    }
    if (ec)
      return false;  // timeout (EAGAIN) or reset
    received_.append(buf, n);
    return true;
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  std::string received_;
  bool eof_ = false;
};

const std::string request = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Polls until `pred` holds (counters settle just after on_close returns).
template <class Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + generous;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

template <class T>
bool ready(std::future<T>& f) {
  return f.wait_for(generous) == std::future_status::ready;
}

}  // namespace

TEST(HttpStream, HeaderThenEventsFromAnotherThread) {
  stream_server srv(1h, 1h);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_until("\r\n\r\n"));
  auto head_end = c.received().find("\r\n\r\n");
  auto head = lower(c.received().substr(0, head_end + 2));
  EXPECT_EQ(head.rfind("http/1.1 200 ok\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\ncontent-type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\ncache-control: no-cache\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nconnection: close\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nx-accel-buffering: no\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nx-stream: yes\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("content-length"), std::string::npos) << head;
  EXPECT_EQ(head.find("transfer-encoding"), std::string::npos) << head;
  auto body_start = head_end + 4;
  ASSERT_TRUE(c.read_until("retry: 2000\n\n", body_start));
  EXPECT_EQ(c.received().substr(body_start, 13), "retry: 2000\n\n");

  auto opened = srv.probe().opened.get_future();
  ASSERT_TRUE(ready(opened));
  auto sink = opened.get();
  ASSERT_TRUE(sink);
  EXPECT_FALSE(sink->closed());
  EXPECT_EQ(srv.server().open_streams(), 1);
  EXPECT_EQ(srv.server().in_flight(), 0);

  std::thread producer([sink] {
    EXPECT_TRUE(sink->send("budget", "42", "{\"a\":1}"));
    EXPECT_TRUE(sink->send("note", "", "line one\nline two\nline three"));
  });
  producer.join();
  std::string expected =
    "retry: 2000\n\n"
    "event: budget\nid: 42\ndata: {\"a\":1}\n\n"
    "event: note\ndata: line one\ndata: line two\ndata: line three\n\n";
  ASSERT_TRUE(c.read_until("data: line three\n\n", body_start));
  EXPECT_EQ(c.received().substr(body_start), expected);
  EXPECT_EQ(srv.probe().open_calls.load(), 1);
  EXPECT_EQ(srv.probe().close_calls.load(), 0);
}

TEST(HttpStream, HeartbeatWhileIdle) {
  stream_server srv(1h, 100ms);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_until("retry: 2000\n\n"));
  auto from = c.received().find("retry: 2000\n\n") + 13;
  ASSERT_TRUE(c.read_until(": heartbeat\n\n", from));
  EXPECT_EQ(c.received().substr(from, 13), ": heartbeat\n\n");
}

TEST(HttpStream, EndsAfterDurationAndCloses) {
  stream_server srv(300ms, 1h);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_to_eof());
  auto& got = c.received();
  std::string tail = "retry: 2000\n\nevent: stream-end\ndata: Stream ended\n\n";
  ASSERT_GE(got.size(), tail.size());
  EXPECT_EQ(got.substr(got.size() - tail.size()), tail);
  auto closed = srv.probe().closed.get_future();
  ASSERT_TRUE(ready(closed));
  auto opened = srv.probe().opened.get_future();
  ASSERT_TRUE(ready(opened));
  auto sink = opened.get();
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->send("late", "", "x"));
  EXPECT_EQ(srv.probe().close_calls.load(), 1);
  EXPECT_TRUE(eventually([&] { return srv.server().open_streams() == 0; }));
}

TEST(HttpStream, ClientLeavingClosesTheStream) {
  stream_server srv(1h, 1h);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_until("retry: 2000\n\n"));
  auto opened = srv.probe().opened.get_future();
  ASSERT_TRUE(ready(opened));
  auto sink = opened.get();
  EXPECT_TRUE(sink->send("one", "1", "x"));
  ASSERT_TRUE(c.read_until("data: x\n\n"));
  c.close();
  auto closed = srv.probe().closed.get_future();
  ASSERT_TRUE(ready(closed));
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->send("two", "2", "y"));
  EXPECT_EQ(srv.probe().close_calls.load(), 1);
  EXPECT_TRUE(eventually([&] { return srv.server().open_streams() == 0; }));
}

TEST(HttpStream, StopEndsOpenStreamsPromptly) {
  stream_server srv(1h, 1h);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_until("retry: 2000\n\n"));
  auto opened = srv.probe().opened.get_future();
  ASSERT_TRUE(ready(opened));
  auto sink = opened.get();
  EXPECT_EQ(srv.server().in_flight(), 0);
  auto closed = srv.probe().closed.get_future();
  auto started = std::chrono::steady_clock::now();
  srv.server().stop(10s);  // nothing in flight: the grace does not wait for the stream
  EXPECT_LT(std::chrono::steady_clock::now() - started, generous);
  ASSERT_TRUE(ready(closed));
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->send("after", "", "stop"));
  EXPECT_EQ(srv.probe().close_calls.load(), 1);
  EXPECT_TRUE(eventually([&] { return srv.server().open_streams() == 0; }));
  // The client read what the server managed to send: stream-end, then EOF.
  EXPECT_TRUE(c.read_to_eof());
  EXPECT_NE(c.received().find("event: stream-end\ndata: Stream ended\n\n"), std::string::npos);
}

TEST(HttpStream, HeadWritesTheHeaderOnlyAndCloses) {
  stream_server srv(1h, 1h);
  client c(srv.server().port());
  c.send("HEAD /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(c.read_to_eof());
  auto& got = c.received();
  EXPECT_EQ(lower(got).rfind("http/1.1 200 ok\r\n", 0), 0u) << got;
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got.substr(got.size() - 4), "\r\n\r\n");
  EXPECT_EQ(got.find("retry:"), std::string::npos);
  auto closed = srv.probe().closed.get_future();
  ASSERT_TRUE(ready(closed));
  EXPECT_EQ(srv.probe().open_calls.load(), 0);
  EXPECT_TRUE(eventually([&] { return srv.server().open_streams() == 0; }));
}

TEST(HttpStream, QueuePastTheBoundClosesTheStream) {
  stream_server srv(1h, 1h);
  client c(srv.server().port());
  c.send(request);
  ASSERT_TRUE(c.read_until("retry: 2000\n\n"));
  auto opened = srv.probe().opened.get_future();
  ASSERT_TRUE(ready(opened));
  auto sink = opened.get();
  // One event larger than the 1 MiB bound can never be queued.
  EXPECT_FALSE(sink->send("huge", "", std::string((1 << 20) + 1, 'x')));
  EXPECT_TRUE(sink->closed());
  auto closed = srv.probe().closed.get_future();
  ASSERT_TRUE(ready(closed));
  EXPECT_FALSE(sink->send("small", "", "y"));
  EXPECT_TRUE(c.read_to_eof());
  EXPECT_EQ(c.received().find("huge"), std::string::npos);
}
