#pragma once
// A minimal Server-Sent Events client for tests: one GET on a fresh
// connection, then events one by one with a timeout.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adserver::testing {

struct sse_event {
  std::string event;  // "message" when the stream named none
  std::string id;
  std::string data;
};

class sse_client {
public:
  /// Connects to 127.0.0.1:port and sends GET target with the headers.
  sse_client(int port, const std::string& target,
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~sse_client();
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;
  /// The status of the response (0: none), after the header arrived.
  int status(int timeout_ms = 5000);
  /// The response header block (after status()).
  const std::string& headers() const { return head_; }
  /// The next event, or nothing within the timeout / when the stream closed.
  std::optional<sse_event> next(int timeout_ms);
  /// Comments (": ...") seen so far.
  int comments() const { return comments_; }
  /// The server closed the connection.
  bool closed() const { return eof_; }
  void close();

private:
  bool fill(int timeout_ms);
  int fd_ = -1;
  std::string buf_;
  std::string head_;
  int status_ = 0;
  int comments_ = 0;
  bool eof_ = false;
};

}  // namespace adserver::testing
