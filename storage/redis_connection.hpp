#pragma once
// A synchronous hiredis connection with pipelining. Blocking: only inside the
// Redis I/O actor, tools and tests.
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace adserver::storage {

class redis_connection {
public:
  redis_connection(std::string host, int port, int timeout_ms = 1000);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Empty string or the reason.
  std::string connect();
  bool connected() const;
  void close();

  using command = std::vector<std::string>;
  struct reply {
    bool ok = false;       // false: Redis answered with an error
    std::string text;      // string/status/error text, or integer as text
    std::vector<std::string> elements;  // array replies ("" for nested arrays)
    /// Array replies: each element as a reply of its own (nested arrays, as
    /// XREAD and XRANGE give them).
    std::vector<reply> children;
    bool nil = false;
  };
  /// Sends all commands in one pipeline and reads every reply. False when the
  /// connection broke (the connection is closed then; replies incomplete).
  bool pipeline(const std::vector<command>& commands, std::vector<reply>& replies,
                std::string& err);
  /// One command; convenience over pipeline().
  bool run(const command& cmd, reply& out, std::string& err);

private:
  static reply convert(const redisReply* r);
  std::string host_;
  int port_;
  int timeout_ms_;
  redisContext* ctx_ = nullptr;
};

}  // namespace adserver::storage
