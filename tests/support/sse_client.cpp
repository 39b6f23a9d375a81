#include "tests/support/sse_client.hpp"

#include "tests/support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace adserver::testing {

sse_client::sse_client(int port, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  fd_ = connect_loopback(port);
  if (fd_ < 0) {
    eof_ = true;
    return;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n";
  ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
}

sse_client::~sse_client() {
  close();
}

void sse_client::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool sse_client::fill(int timeout_ms) {
  if (fd_ < 0 || eof_)
    return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0)
    return false;
  char chunk[8192];
  auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

int sse_client::status(int timeout_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (head_.empty()) {
    auto end = buf_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head_ = buf_.substr(0, end + 2);
      buf_.erase(0, end + 4);
      if (head_.rfind("HTTP/1.1 ", 0) == 0)
        status_ = std::atoi(head_.c_str() + 9);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0 || !fill(static_cast<int>(left)))
      return 0;
  }
  return status_;
}

std::optional<sse_event> sse_client::next(int timeout_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (head_.empty() && status(timeout_ms) == 0)
    return std::nullopt;
  for (;;) {
    // One event: lines up to a blank line.
    auto end = buf_.find("\n\n");
    while (end != std::string::npos) {
      auto block = buf_.substr(0, end + 1);
      buf_.erase(0, end + 2);
      sse_event e;
      bool any = false;
      size_t i = 0;
      while (i < block.size()) {
        auto j = block.find('\n', i);
        auto line = block.substr(i, j - i);
        i = j + 1;
        if (line.empty())
          continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        auto colon = line.find(':');
        auto field = line.substr(0, colon);
        auto value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ')
          value.erase(0, 1);
        if (field == "event")
          e.event = value, any = true;
        else if (field == "id")
          e.id = value, any = true;
        else if (field == "data")
          e.data += (e.data.empty() ? "" : "\n") + value, any = true;
      }
      if (any && (!e.data.empty() || !e.event.empty())) {
        if (e.event.empty())
          e.event = "message";
        return e;
      }
      end = buf_.find("\n\n");
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0 || !fill(static_cast<int>(left)))
      return std::nullopt;
  }
}

}  // namespace adserver::testing
