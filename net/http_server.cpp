#include "net/http_server.hpp"

#include "config/log.hpp"
#include "net/event_stream.hpp"
#include "net/reply_wire.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

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

class session;

struct shared_counters {
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> in_flight{0};  // read, not yet answered
  std::atomic<int64_t> open_streams{0};  // event streams whose on_close has not run
  std::atomic<int64_t> connections_refused{0};  // closed at once by the connection limits
  // Answered before routing: malformed (400), body (413), headers (431).
  std::atomic<int64_t> refused_400{0};
  std::atomic<int64_t> refused_413{0};
  std::atomic<int64_t> refused_431{0};
  // Open event streams, so that stop() can end them; once `stopping`, a new
  // stream ends as soon as its header went out.
  std::mutex streams_mtx;
  bool stopping = false;
  std::unordered_map<const session*, std::weak_ptr<session>> streams;
};

/// Pending bytes an event stream may hold for a slow client before it is
/// closed.
constexpr size_t stream_queue_limit = 1u << 20;
/// How long an ending stream may take to write out what it still holds
/// (`event: stream-end` included) before the connection is closed anyway.
constexpr auto stream_flush_limit = std::chrono::milliseconds(500);
/// After the last byte: how long the client gets to close its side.
constexpr auto stream_linger_limit = std::chrono::seconds(2);

/// One Server-Sent Event: `event:`, `id:` (if any), one `data:` per line.
std::string format_event(const std::string& event, const std::string& id,
                         const std::string& data) {
  std::string out;
  out.reserve(event.size() + id.size() + data.size() + 32);
  out += "event: ";
  out += event;
  out += '\n';
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    auto line = data.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    out += "data: ";
    out += line;
    out += '\n';
    if (nl == std::string::npos)
      break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

/// Calls a stream's on_close unless the stream was taken: a stream reply that
/// never reaches its session (the io_context stopped first) still closes.
struct stream_handoff {
  explicit stream_handoff(std::shared_ptr<event_stream> s) : stream(std::move(s)) {}
  stream_handoff(stream_handoff&& o) noexcept : stream(std::move(o.stream)) {}
  stream_handoff(const stream_handoff&) = delete;
  stream_handoff& operator=(const stream_handoff&) = delete;
  stream_handoff& operator=(stream_handoff&&) = delete;
  ~stream_handoff() {
    if (stream && stream->on_close)
      stream->on_close();
  }
  std::shared_ptr<event_stream> take() { return std::move(stream); }
  std::shared_ptr<event_stream> stream;
};

/// What producers and the session share for one event stream: the bytes
/// queued and whether the stream ended. Producers append from any thread;
/// the session takes the bytes on its strand.
struct stream_queue {
  std::mutex mtx;
  std::string pending;      // queued, not yet handed to a write
  size_t in_write = 0;      // bytes of the write under way
  bool closed = false;      // no more events accepted
  bool flush_posted = false;
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

/// The event_sink a producer gets: queues onto the session's stream.
class session_sink final : public event_sink {
public:
  session_sink(std::shared_ptr<stream_queue> queue, std::weak_ptr<session> owner)
    : queue_(std::move(queue)), owner_(std::move(owner)) {}
  bool send(const std::string& event, const std::string& id, const std::string& data) override;
  bool closed() const override {
    std::lock_guard<std::mutex> guard{queue_->mtx};
    return queue_->closed;
  }

private:
  std::shared_ptr<stream_queue> queue_;
  std::weak_ptr<session> owner_;
};

/// The stream of a reply that will not be opened: its on_close runs now.
void close_unopened(std::shared_ptr<event_stream> stream) {
  stream_handoff{std::move(stream)};
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
    if (streaming_)
      finish_stream();  // the io_context went away with the stream open
    --counters_.connections;
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  /// From any thread (server stop): ends the event stream, `event:
  /// stream-end` first if the client takes it soon enough.
  void stop_stream() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->end_stream(true); });
  }

  /// From any thread (the sink): queues bytes of the event stream. False if
  /// the stream ended or the queue would pass its bound (the stream closes).
  bool enqueue(std::string text) {
    bool post_flush = false;
    bool overflow = false;
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      if (sq_->closed)
        return false;
      if (sq_->pending.size() + sq_->in_write + text.size() > stream_queue_limit) {
        sq_->closed = true;
        overflow = true;
      } else {
        sq_->pending += text;
        if (!sq_->flush_posted)
          post_flush = sq_->flush_posted = true;
      }
    }
    if (overflow) {
      asio::post(stream_.get_executor(), [self = shared_from_this()] { self->end_stream(false); });
      return false;
    }
    if (post_flush)
      asio::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_flush(); });
    return true;
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
    head_request_ = req.method() == http::verb::head;
    version_ = req.version();
    ++counters_.requests;
    auto request = to_request(req, client_);
    request.request_id = request_id_for(request);
    request_id_ = request.request_id;
    auto budget = deadline_budget_ms(opts_, request.path);
    request.deadline_ms = work_deadline_ms(opts_, request.path, now_ms());
    request.answer_by_ms = now_ms() + budget;
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
      stream_handoff handoff{std::move(reply.stream)};
      asio::post(self->stream_.get_executor(),
                 [self, seq, reply = std::move(reply), handoff = std::move(handoff)]() mutable {
                   reply.stream = handoff.take();
                   self->complete(seq, std::move(reply));
                 });
    });
  }

  void complete(uint64_t seq, http_reply reply) {
    if (seq != seq_ || !awaiting_) {
      // Answered already (deadline): this late reply is dropped.
      close_unopened(std::move(reply.stream));
      return;
    }
    awaiting_ = false;
    --counters_.in_flight;
    deadline_timer_.cancel();
    if (reply.stream) {
      if (reply.status == 200) {
        start_stream(std::move(reply));
        return;
      }
      close_unopened(std::move(reply.stream));
    }
    write(std::move(reply));
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
    reply.head_only = head_request_;  // a HEAD answer has no body, even this one
    log_line(log_level::warn, "request_deadline",
             {{"request_id", request_id_}, {"deadline_ms", std::to_string(budget), true}});
    write(std::move(reply));
  }

  void fail_and_close(int status, const std::string& code, const std::string& message) {
    if (status == 400)
      ++counters_.refused_400;
    else if (status == 413)
      ++counters_.refused_413;
    else if (status == 431)
      ++counters_.refused_431;
    keep_alive_ = false;
    head_request_ = false;
    version_ = 11;
    request_id_.clear();  // refused before a request existed: a new id
    write(error_reply(status, code, message));
  }

  void write(http_reply reply) {
    stream_.expires_after(std::chrono::milliseconds(opts_.idle_timeout_ms));
    // One write at a time per connection: the buffer is the session's.
    wire_ = reply_wire(reply, version_, keep_alive_,
                       request_id_.empty() ? request_id_for(http_request{}) : request_id_);
    asio::async_write(stream_, asio::buffer(wire_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->after_write(ec);
                      });
  }

  void after_write(beast::error_code ec) {
    // An idle keep-alive connection keeps no large answer (dashboards,
    // listings) in its buffer.
    if (wire_.capacity() > 64 * 1024)
      std::string{}.swap(wire_);
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

  // Event streams (Server-Sent Events). The connection serves nothing else
  // afterwards and ends by closing. Everything below runs on the strand but
  // enqueue(). Phases: header queued -> open (on_open ran; events,
  // heartbeats) -> ending (no more events; what is queued, then
  // `event: stream-end`, goes out within stream_flush_limit) -> lingering
  // (send side shut, on_close ran; waiting for the client to close) ->
  // closed. A client that leaves or a failed write closes at once.

  void start_stream(http_reply reply) {
    streaming_ = true;
    es_ = std::move(reply.stream);
    stream_head_ = reply.head_only;
    sq_ = std::make_shared<stream_queue>();
    stream_.expires_never();
    detect_vanished_client();
    auto ex = stream_.get_executor();
    heartbeat_timer_.emplace(ex);
    duration_timer_.emplace(ex);
    end_timer_.emplace(ex);
    std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Server: adserver\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      "Connection: close\r\n"
      "X-Accel-Buffering: no\r\n";
    append_headers(head, reply,
                   {"content-type", "cache-control", "connection", "x-accel-buffering",
                    "content-length", "transfer-encoding", "server"});
    head += "\r\n";
    bool stopping = false;
    if (!stream_head_) {
      head += "retry: 2000\n\n";
      ++counters_.open_streams;
      stream_counted_ = true;
      std::lock_guard<std::mutex> guard{counters_.streams_mtx};
      stopping = counters_.stopping;
      if (!stopping) {
        counters_.streams[this] = weak_from_this();
        stream_registered_ = true;
      }
    }
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->pending = std::move(head);
    }
    read_client();
    stream_flush();
    if (stream_head_ || stopping)
      end_stream(true);  // HEAD: the header only; stopping: header and stream-end
  }

  // A client that vanishes without closing (sleep, network gone) sends no
  // FIN: keepalive probes and a user timeout end its stream within about a
  // minute instead of the kernel's ~15 minutes of retransmissions (its
  // stream slot comes back with it).
  void detect_vanished_client() {
    int fd = stream_.socket().native_handle();
    int on = 1, idle = 30, interval = 10, count = 3;
    unsigned int user_timeout_ms = 60000;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
  }

  // Keeps a read pending: the client sends nothing more, so EOF or an error
  // means it left. Bytes it does send are dropped.
  void read_client() {
    drain_.resize(4096);
    stream_.socket().async_read_some(
      asio::buffer(drain_),
      asio::bind_executor(stream_.get_executor(),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->on_client_read(ec);
                          }));
  }

  void on_client_read(beast::error_code ec) {
    if (socket_closed_)
      return;
    if (ec) {
      close_stream_socket();
      return;
    }
    read_client();
  }

  // One write at a time: takes everything queued.
  void stream_flush() {
    if (socket_closed_ || writing_ || lingering_)
      return;
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->flush_posted = false;
      write_buf_.swap(sq_->pending);
      sq_->in_write = write_buf_.size();
    }
    if (write_buf_.empty()) {
      if (ending_)
        after_last_write();
      return;
    }
    writing_ = true;
    last_write_ = std::chrono::steady_clock::now();
    asio::async_write(stream_.socket(), asio::buffer(write_buf_),
                      asio::bind_executor(stream_.get_executor(),
                                          [self = shared_from_this()](beast::error_code ec,
                                                                      size_t) {
                                            self->on_stream_write(ec);
                                          }));
  }

  void on_stream_write(beast::error_code ec) {
    writing_ = false;
    write_buf_.clear();
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->in_write = 0;
    }
    if (socket_closed_)
      return;
    if (ec) {
      close_stream_socket();
      return;
    }
    if (!opened_) {
      opened_ = true;
      if (!ending_)
        open_stream();
    }
    stream_flush();
  }

  void open_stream() {
    if (es_->heartbeat.count() > 0) {
      heartbeat_timer_->expires_after(es_->heartbeat);
      heartbeat_timer_->async_wait(
        [self = shared_from_this()](beast::error_code ec) { self->on_heartbeat(ec); });
    }
    duration_timer_->expires_after(es_->duration);
    duration_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->end_stream(true);
    });
    if (es_->on_open)
      es_->on_open(std::make_shared<session_sink>(sq_, weak_from_this()));
  }

  void on_heartbeat(beast::error_code ec) {
    if (ec || ending_ || socket_closed_)
      return;
    auto now = std::chrono::steady_clock::now();
    auto due = last_write_ + es_->heartbeat;
    if (now >= due) {
      enqueue(": heartbeat\n\n");
      due = now + es_->heartbeat;
    }
    heartbeat_timer_->expires_at(due);
    heartbeat_timer_->async_wait(
      [self = shared_from_this()](beast::error_code ec) { self->on_heartbeat(ec); });
  }

  // graceful: what is queued and `event: stream-end` go out first (bounded
  // by stream_flush_limit); otherwise the connection closes now.
  void end_stream(bool graceful) {
    if (!streaming_ || socket_closed_)
      return;
    if (!graceful) {
      close_stream_socket();
      return;
    }
    if (ending_)
      return;
    ending_ = true;
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->closed = true;
      if (!stream_head_)
        sq_->pending += "event: stream-end\ndata: Stream ended\n\n";
    }
    heartbeat_timer_->cancel();
    duration_timer_->cancel();
    end_timer_->expires_after(stream_flush_limit);
    end_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->close_stream_socket();
    });
    stream_flush();
  }

  // Everything went out: no more sending; the client closes its side (our
  // pending read sees it) or the connection closes after a while.
  void after_last_write() {
    if (lingering_)
      return;
    lingering_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    finish_stream();
    end_timer_->expires_after(stream_linger_limit);
    end_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->close_stream_socket();
    });
  }

  void close_stream_socket() {
    if (socket_closed_)
      return;
    socket_closed_ = true;
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->closed = true;
      sq_->pending.clear();
    }
    heartbeat_timer_->cancel();
    duration_timer_->cancel();
    end_timer_->cancel();
    close();
    finish_stream();
  }

  // The stream is over: producers are refused, on_close runs (once).
  void finish_stream() {
    if (stream_finished_)
      return;
    stream_finished_ = true;
    {
      std::lock_guard<std::mutex> guard{sq_->mtx};
      sq_->closed = true;
    }
    if (stream_registered_) {
      std::lock_guard<std::mutex> guard{counters_.streams_mtx};
      counters_.streams.erase(this);
    }
    auto es = std::move(es_);
    if (es && es->on_close)
      es->on_close();
    if (stream_counted_)
      --counters_.open_streams;
  }

  std::shared_ptr<void> address_slot_;  // gives its place back when the session ends
  beast::tcp_stream stream_;
  asio::steady_timer deadline_timer_;
  uint64_t seq_ = 0;
  bool awaiting_ = false;
  std::string request_id_;  // of the request being answered
  std::string wire_;        // the answer being written (reply_wire)
  bool head_request_ = false;  // the request being answered is a HEAD
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const router& routes_;
  const http_options& opts_;
  shared_counters& counters_;
  std::string client_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::vector<char> drain_;
  // Event stream (start_stream).
  std::shared_ptr<event_stream> es_;
  std::shared_ptr<stream_queue> sq_;
  std::optional<asio::steady_timer> heartbeat_timer_;
  std::optional<asio::steady_timer> duration_timer_;
  std::optional<asio::steady_timer> end_timer_;  // flush, then linger limit
  std::string write_buf_;
  std::chrono::steady_clock::time_point last_write_{};
  bool streaming_ = false;
  bool stream_head_ = false;
  bool stream_counted_ = false;
  bool stream_registered_ = false;
  bool opened_ = false;
  bool writing_ = false;
  bool ending_ = false;
  bool lingering_ = false;
  bool socket_closed_ = false;
  bool stream_finished_ = false;
};

bool session_sink::send(const std::string& event, const std::string& id,
                        const std::string& data) {
  auto owner = owner_.lock();
  if (!owner)
    return false;
  return owner->enqueue(format_event(event, id, data));
}

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
      ++counters.connections_refused;
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
  // Event streams end now (stream-end, if the client takes it soon); one
  // opened from here on ends as soon as its header went out.
  std::vector<std::shared_ptr<session>> streams;
  {
    auto& c = impl_->counters;
    std::lock_guard<std::mutex> guard{c.streams_mtx};
    c.stopping = true;
    for (auto& [key, weak] : c.streams)
      if (auto s = weak.lock())
        streams.push_back(std::move(s));
  }
  for (auto& s : streams)
    s->stop_stream();
  streams.clear();
  // What was read is answered (or answered 503 at its deadline) first.
  auto now = std::chrono::steady_clock::now();
  auto until = now + grace;
  while (impl_->counters.in_flight.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Streams take at most stream_flush_limit to end; a stream left over ends
  // (on_close) when the io_context destroys its session.
  auto streams_until = std::max(until, now + stream_flush_limit + std::chrono::milliseconds(200));
  while (impl_->counters.open_streams.load() > 0
         && std::chrono::steady_clock::now() < streams_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
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

int64_t http_server::open_streams() const {
  return impl_->counters.open_streams.load();
}

int64_t http_server::connections_refused() const {
  return impl_->counters.connections_refused.load();
}

int64_t http_server::requests_refused(int status) const {
  switch (status) {
    case 400: return impl_->counters.refused_400.load();
    case 413: return impl_->counters.refused_413.load();
    case 431: return impl_->counters.refused_431.load();
    default: return 0;
  }
}

int64_t http_server::requests_served() const {
  return impl_->counters.requests.load();
}

}  // namespace adserver::net
