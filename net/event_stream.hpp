#pragma once
// Server-Sent Events on the HTTP server: a handler answers with an
// event_stream; the session writes the header, then whatever a producer
// sends through the event_sink, a heartbeat comment while idle, and
// `event: stream-end` when the duration is over. No thread per stream: the
// session writes on its I/O strand; producers call send() from any thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace adserver::net {

/// Where a producer writes events; implemented by the HTTP session.
/// Thread-safe. Calls after the stream ended are ignored (return false).
class event_sink {
public:
  virtual ~event_sink() = default;
  /// Queues one event (`id` may be empty: no id line). `data` may hold
  /// newlines (each becomes its own data line). False once the stream ended
  /// (client gone, duration over, server stopping) or the client fell so far
  /// behind that its queue passed the bound (the stream is then closed).
  virtual bool send(const std::string& event, const std::string& id, const std::string& data) = 0;
  /// Whether the stream has ended; a producer then forgets the sink.
  virtual bool closed() const = 0;
};

/// A reply that opens an event stream (http_reply::stream).
struct event_stream {
  /// After this long: `event: stream-end` / `data: Stream ended`, then close.
  std::chrono::milliseconds duration{std::chrono::hours(1)};
  /// A `: heartbeat` comment after this long without an event.
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};
  /// Called once, on the session's strand, after the response header went
  /// out: start producing into the sink.
  std::function<void(std::shared_ptr<event_sink>)> on_open;
  /// Called exactly once when the stream ends for any reason (also when it
  /// never opened because the client left first).
  std::function<void()> on_close;
};

}  // namespace adserver::net
