#include "net/http_server.hpp"

#include "net/event_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <cctype>
#include <thread>
#include <vector>

namespace adserver::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

int64_t deadline_budget_ms(const http_options& opts, const std::string& path) {
  return path.rfind("/admin", 0) == 0 ? opts.admin_deadline_ms : opts.api_deadline_ms;
}

int64_t work_deadline_ms(const http_options& opts, const std::string& path, int64_t now_ms) {
  auto budget = deadline_budget_ms(opts, path);
  return now_ms + budget - std::min(opts.deadline_margin_ms, budget / 2);
}

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct shared_counters {
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> in_flight{0};  // read, not yet answered
  std::atomic<int64_t> streams{0};    // open event streams
};

/// What producers write into (event_sink) and the session drains: bytes
/// queued under a lock, so send() works from any thread.
class stream_buffer : public event_sink {
public:
  static constexpr size_t max_pending = 1 << 20;

  explicit stream_buffer(std::function<void()> wake) : wake_(std::move(wake)) {
  }

  bool send(const std::string& event, const std::string& id, const std::string& data) override {
    std::string frame;
    frame.reserve(event.size() + id.size() + data.size() + 32);
    frame += "event: " + event + "\n";
    if (!id.empty())
      frame += "id: " + id + "\n";
    for (size_t i = 0;;) {
      auto j = data.find('\n', i);
      frame += "data: ";
      if (j == std::string::npos) {
        frame.append(data, i, std::string::npos);
        frame += "\n";
        break;
      }
      frame.append(data, i, j - i);
      frame += "\n";
      i = j + 1;
    }
    frame += "\n";
    return push(std::move(frame));
  }

  bool closed() const override { return closed_.load(); }

  /// Queues raw bytes; false (and the stream marked over) past the bound.
  bool push(std::string bytes) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_.load())
        return false;
      if (pending_.size() + bytes.size() > max_pending) {
        overflowed_ = true;
        closed_ = true;
        wake = true;
      } else {
        pending_ += bytes;
        wake = !wake_posted_;
        wake_posted_ = true;
      }
    }
    if (wake)
      wake_();
    return !overflowed_;
  }

  /// Takes what is queued (the session writes it).
  std::string take() {
    std::lock_guard<std::mutex> guard{mtx_};
    wake_posted_ = false;
    std::string out;
    out.swap(pending_);
    return out;
  }

  bool overflowed() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return overflowed_;
  }

  void close() { closed_ = true; }

private:
  std::function<void()> wake_;
  mutable std::mutex mtx_;
  std::string pending_;
  bool wake_posted_ = false;
  bool overflowed_ = false;
  std::atomic<bool> closed_{false};
};

http_request to_request(const http::request<http::string_body>& req, const std::string& client) {
  http_request out;
  out.method = std::string{req.method_string()};
  auto target = std::string{req.target()};
  auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string::npos)
    out.query = parse_query(target.substr(q + 1));
  for (auto& field : req) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string{field.value()};
  }
  out.body = req.body();
  out.client_address = client;
  return out;
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, const router& routes, const http_options& opts,
          shared_counters& counters, std::shared_ptr<void> address_slot)
    : address_slot_(std::move(address_slot)),
      stream_(std::move(socket)),
      deadline_timer_(stream_.get_executor()),
      routes_(routes),
      opts_(opts),
      counters_(counters) {
    ++counters_.connections;
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec)
      client_ = ep.address().to_string();
  }

  ~session() {
    if (awaiting_)
      --counters_.in_flight;
    if (events_)
      end_stream();  // server stopped with the stream open
    --counters_.connections;
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(opts_.body_limit));
    parser_->header_limit(static_cast<uint32_t>(opts_.header_limit));
    stream_.expires_after(std::chrono::milliseconds(opts_.idle_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == asio::error::connection_reset || ec == asio::error::eof) {
      close();
      return;
    }
    if (ec == http::error::body_limit) {
      fail_and_close(413, "PAYLOAD_TOO_LARGE",
                     "request body exceeds " + std::to_string(opts_.body_limit) + " bytes");
      return;
    }
    if (ec == http::error::header_limit) {
      fail_and_close(431, "HEADERS_TOO_LARGE",
                     "request headers exceed " + std::to_string(opts_.header_limit) + " bytes");
      return;
    }
    if (ec) {
      fail_and_close(400, "VALIDATION_FAILED", "malformed HTTP request");
      return;
    }
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    ++counters_.requests;
    auto request = to_request(req, client_);
    auto budget = deadline_budget_ms(opts_, request.path);
    request.deadline_ms = work_deadline_ms(opts_, request.path, now_ms());
    // While the handler works nothing is read, so a slow handler cannot be
    // flooded. The connection's timer stays on; the deadline timer answers
    // 503 if the handler has not answered in time (exactly one answer: the
    // sequence number tells a late reply from the current one).
    stream_.expires_after(std::chrono::milliseconds(budget + opts_.idle_timeout_ms));
    auto seq = ++seq_;
    awaiting_ = true;
    ++counters_.in_flight;
    auto self = shared_from_this();
    deadline_timer_.expires_after(std::chrono::milliseconds(budget));
    deadline_timer_.async_wait([self, seq, budget](beast::error_code ec) {
      if (!ec)
        self->on_deadline(seq, budget);
    });
    routes_.dispatch(request, [self, seq](http_reply reply) {
      asio::post(self->stream_.get_executor(), [self, seq, reply = std::move(reply)]() mutable {
        self->complete(seq, std::move(reply));
      });
    });
  }

  void complete(uint64_t seq, http_reply reply) {
    if (seq != seq_ || !awaiting_) {
      // Answered already (deadline): this late reply is dropped; a stream
      // that was opened for it ends at once.
      if (reply.stream && reply.stream->on_close)
        reply.stream->on_close();
      return;
    }
    awaiting_ = false;
    --counters_.in_flight;
    deadline_timer_.cancel();
    if (reply.stream && reply.status == 200) {
      open_stream(std::move(reply));
      return;
    }
    if (reply.stream && reply.stream->on_close)
      reply.stream->on_close();
    write(std::move(reply));
  }

  // -- Server-Sent Events (net/event_stream.hpp) ---------------------------------
  void open_stream(http_reply reply) {
    events_ = std::move(reply.stream);
    ++counters_.streams;
    keep_alive_ = false;
    stream_.expires_never();
    std::string head = "HTTP/1.1 200 OK\r\nServer: adserver\r\n"
                       "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                       "Connection: close\r\nX-Accel-Buffering: no\r\n";
    for (auto& [k, v] : reply.headers)
      head += k + ": " + v + "\r\n";
    head += "\r\n";
    if (reply.head_only) {
      end_stream();
      auto buf = std::make_shared<std::string>(std::move(head));
      asio::async_write(stream_, asio::buffer(*buf),
                        [self = shared_from_this(), buf](beast::error_code, size_t) {
                          self->close();
                        });
      return;
    }
    std::weak_ptr<session> weak = shared_from_this();
    auto executor = stream_.get_executor();
    sink_ = std::make_shared<stream_buffer>([weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock())
          self->drain_stream();
      });
    });
    // The client is told to reconnect after 2 s (EventSource's retry).
    sink_->push(std::move(head) + "retry: 2000\n\n");
    watch_client();
    arm_heartbeat();
    duration_timer_.expires_after(events_->duration);
    duration_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->events_) {
        self->sink_->push("event: stream-end\ndata: Stream ended\n\n");
        self->closing_ = true;
      }
    });
    if (events_->on_open)
      events_->on_open(sink_);
  }

  /// Writes what producers queued, one write at a time.
  void drain_stream() {
    if (!events_ || writing_)
      return;
    auto bytes = sink_->take();
    if (bytes.empty()) {
      if (closing_ || sink_->overflowed()) {
        end_stream();
        close();
      }
      return;
    }
    writing_ = true;
    last_write_ = std::chrono::steady_clock::now();
    auto buf = std::make_shared<std::string>(std::move(bytes));
    asio::async_write(stream_, asio::buffer(*buf),
                      [self = shared_from_this(), buf](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) {
                          self->end_stream();
                          self->close();
                          return;
                        }
                        self->drain_stream();
                      });
  }

  /// A read that completes only when the client goes away.
  void watch_client() {
    drain_.resize(4096);
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!self->events_)
                                return;
                              if (ec) {
                                self->end_stream();
                                self->close();
                                return;
                              }
                              self->watch_client();  // bytes after the request: ignored
                            });
  }

  void arm_heartbeat() {
    heartbeat_timer_.expires_after(events_->heartbeat);
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->events_)
        return;
      if (std::chrono::steady_clock::now() - self->last_write_ >= self->events_->heartbeat / 2)
        self->sink_->push(": heartbeat\n\n");
      self->arm_heartbeat();
    });
  }

  /// Ends the stream once: producers see closed(), on_close runs.
  void end_stream() {
    if (!events_)
      return;
    auto stream = std::move(events_);
    events_.reset();
    if (sink_)
      sink_->close();
    --counters_.streams;
    beast::error_code ec;
    duration_timer_.cancel(ec);
    heartbeat_timer_.cancel(ec);
    if (stream->on_close)
      stream->on_close();
  }

  void on_deadline(uint64_t seq, int64_t budget) {
    if (seq != seq_ || !awaiting_)
      return;
    awaiting_ = false;
    --counters_.in_flight;
    auto reply = error_reply(503, "UNAVAILABLE",
                             "no answer within the request deadline of "
                               + std::to_string(budget)
                               + " ms; work not started by then is dropped; retry with an Idempotency-Key",
                             "{\"deadline_ms\":" + std::to_string(budget)
                               + ",\"retry_after_seconds\":1}");
    reply.headers.emplace_back("Retry-After", "1");
    write(std::move(reply));
  }

  void fail_and_close(int status, const std::string& code, const std::string& message) {
    keep_alive_ = false;
    version_ = 11;
    write(error_reply(status, code, message));
  }

  void write(http_reply reply) {
    stream_.expires_after(std::chrono::milliseconds(opts_.idle_timeout_ms));
    if (reply.head_only) {
      // HEAD: the GET answer's headers and length, no body.
      auto res = std::make_shared<http::response<http::empty_body>>(
        static_cast<http::status>(reply.status), version_);
      set_fields(*res, reply);
      res->content_length(reply.body.size());
      http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec,
                                                                        size_t) {
        self->after_write(ec);
      });
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(reply.status), version_);
    set_fields(*res, reply);
    res->body() = std::move(reply.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->after_write(ec);
                      });
  }

  template <class Response>
  void set_fields(Response& res, const http_reply& reply) {
    res.set(http::field::server, "adserver");
    if (reply.status != 204)
      res.set(http::field::content_type, reply.content_type);
    for (auto& [k, v] : reply.headers)
      res.set(k, v);
    res.keep_alive(keep_alive_);
  }

  void after_write(beast::error_code ec) {
    if (ec) {
      close();
      return;
    }
    if (!keep_alive_) {
      drain_and_close();
      return;
    }
    read();
  }

  // Closing with unread request bytes pending makes the kernel send a reset,
  // which can destroy the error reply before the client reads it: stop
  // sending, swallow what the client still sends (bounded), then close.
  void drain_and_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain_.resize(64 << 10);
    drain_step(0);
  }

  void drain_step(size_t drained) {
    if (drained > (16u << 20)) {
      close();
      return;
    }
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->drain_step(drained + n);
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  std::shared_ptr<void> address_slot_;  // gives its place back when the session ends
  beast::tcp_stream stream_;
  // An open event stream (null otherwise) and what feeds it.
  std::shared_ptr<event_stream> events_;
  std::shared_ptr<stream_buffer> sink_;
  asio::steady_timer duration_timer_{stream_.get_executor()};
  asio::steady_timer heartbeat_timer_{stream_.get_executor()};
  bool writing_ = false;
  bool closing_ = false;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  asio::steady_timer deadline_timer_;
  uint64_t seq_ = 0;
  bool awaiting_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const router& routes_;
  const http_options& opts_;
  shared_counters& counters_;
  std::string client_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::vector<char> drain_;
};

}  // namespace

/// Open connections per client address, bounded by
/// http.max_connections_per_address; a slot gives its place back when the
/// session that holds it ends.
struct address_slots {
  std::mutex mtx;
  std::unordered_map<std::string, int64_t> open;

  static std::shared_ptr<void> take(const std::shared_ptr<address_slots>& self,
                                    const std::string& address, int64_t limit) {
    {
      std::lock_guard<std::mutex> guard{self->mtx};
      auto& n = self->open[address];
      if (n >= limit)
        return nullptr;
      ++n;
    }
    return std::shared_ptr<void>(static_cast<void*>(self.get()), [self, address](void*) {
      std::lock_guard<std::mutex> guard{self->mtx};
      auto it = self->open.find(address);
      if (it != self->open.end() && --it->second <= 0)
        self->open.erase(it);
    });
  }
};

struct http_server::impl {
  impl(const router& r, http_options o)
    : routes(r),
      opts(std::move(o)),
      ioc(opts.threads),
      acceptor(asio::make_strand(ioc)),
      accept_backoff(acceptor.get_executor()) {
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open())
        return;
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec.value() == ENOMEM
          || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: wait instead of spinning on accept; the
        // pending connections stay in the listen queue meanwhile.
        ++accept_pauses;
        accept_backoff.expires_after(std::chrono::milliseconds(100));
        accept_backoff.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec)
            accept();
        });
        return;
      }
      if (!ec)
        admit(std::move(s));
      accept();
    });
  }

  void admit(tcp::socket s) {
    beast::error_code ec;
    auto ep = s.remote_endpoint(ec);
    std::shared_ptr<void> slot;
    if (!ec && counters.connections.load() < opts.max_connections)
      slot = address_slots::take(slots, ep.address().to_string(),
                                 opts.max_connections_per_address);
    if (!slot) {
      s.close(ec);
      return;
    }
    s.set_option(tcp::no_delay(true), ec);
    std::make_shared<session>(std::move(s), routes, opts, counters, std::move(slot))->start();
  }

  const router& routes;
  http_options opts;
  shared_counters counters;  // before ioc: sessions destroyed with it decrement these
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff;
  std::vector<std::thread> threads;
  std::shared_ptr<address_slots> slots = std::make_shared<address_slots>();
  std::atomic<int64_t> accept_pauses{0};
  uint16_t bound_port = 0;
};

http_server::http_server(const router& routes, http_options options)
  : impl_(new impl(routes, std::move(options))) {
}

http_server::~http_server() {
  stop(std::chrono::milliseconds(0));
}

std::string http_server::start() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.address, ec);
  if (ec)
    return "invalid http.address " + impl_->opts.address;
  tcp::endpoint ep{addr, static_cast<uint16_t>(impl_->opts.port)};
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec)
    a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    a.bind(ep, ec);
  if (!ec)
    a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + impl_->opts.address + ":" + std::to_string(impl_->opts.port)
           + ": " + ec.message();
  impl_->bound_port = a.local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < impl_->opts.threads; ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return {};
}

uint16_t http_server::port() const {
  return impl_->bound_port;
}

void http_server::wait_for_shutdown_signal() {
  asio::io_context sig_ioc;
  asio::signal_set signals(sig_ioc, SIGINT, SIGTERM);
  signals.async_wait([](beast::error_code, int) {});
  sig_ioc.run();
}

void http_server::stop_accepting() {
  asio::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
}

void http_server::stop(std::chrono::milliseconds grace) {
  if (impl_->threads.empty())
    return;
  stop_accepting();
  // What was read is answered (or answered 503 at its deadline) first.
  auto until = std::chrono::steady_clock::now() + grace;
  while (impl_->counters.in_flight.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

std::string raise_open_file_limit(int64_t needed) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return std::string{"getrlimit: "} + std::strerror(errno);
  auto want = static_cast<rlim_t>(needed);
  if (lim.rlim_cur >= want)
    return {};
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
    return std::string{"setrlimit: "} + std::strerror(errno);
  if (lim.rlim_cur < want)
    return "the open-file limit is " + std::to_string(lim.rlim_cur) + " (hard limit), below the "
           + std::to_string(needed) + " that http.max_connections needs";
  return {};
}

int64_t http_server::in_flight() const {
  return impl_->counters.in_flight.load();
}

int64_t http_server::open_connections() const {
  return impl_->counters.connections.load();
}

int64_t http_server::requests_served() const {
  return impl_->counters.requests.load();
}

}  // namespace adserver::net
