// Benchmark client (not a test): N concurrent Server-Sent Events clients on
// one dashboard stream. Each event's data carries the server's timestamp
// (ms, with offset); the delay from it to arrival at each client is recorded.
//   sse_fanout PORT TARGET CLIENTS SECONDS
// Prints per-client event counts and p50/p99/max delivery delay.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// "2026-11-25T16:41:24.647+09:00" -> Unix ms (0 if unreadable).
int64_t parse_ts(const std::string& s) {
  std::tm tm{};
  int ms = 0, oh = 0, om = 0;
  char sign = '+';
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &sign, &oh, &om)
      != 10)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t t = static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
  int64_t off = (oh * 3600 + om * 60) * 1000;
  return sign == '-' ? t + off : t - off;
}

struct client {
  int fd = -1;
  std::string buf;
  int events = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: sse_fanout PORT TARGET CLIENTS SECONDS\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  std::string target = argv[2];
  int n = std::atoi(argv[3]);
  int seconds = std::atoi(argv[4]);
  std::vector<client> clients(n);
  int connected = 0;
  for (auto& c : clients) {
    c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(c.fd);
      c.fd = -1;
      continue;
    }
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL);
    ++connected;
  }
  std::printf("connected %d of %d\n", connected, n);
  std::fflush(stdout);
  std::vector<int64_t> delays;
  std::vector<pollfd> fds;
  auto until = now_ms() + seconds * 1000LL;
  int refused = 0;
  while (now_ms() < until) {
    fds.clear();
    for (auto& c : clients)
      fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) <= 0)
      continue;
    auto arrived = now_ms();
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      auto& c = clients[i];
      char chunk[16384];
      auto got = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      c.buf.append(chunk, static_cast<size_t>(got));
      if (c.buf.rfind("HTTP/1.1 ", 0) == 0 && c.buf.compare(9, 3, "200") != 0) {
        ++refused;
        ::close(c.fd);
        c.fd = -1;
        c.buf.clear();
        continue;
      }
      size_t end;
      while ((end = c.buf.find("\n\n")) != std::string::npos) {
        auto block = c.buf.substr(0, end);
        c.buf.erase(0, end + 2);
        if (block.find("event: campaign-event") == std::string::npos)
          continue;
        auto ts = block.find("\"timestamp\":\"");
        if (ts == std::string::npos)
          continue;
        auto sent = parse_ts(block.substr(ts + 13, 29));
        ++c.events;
        if (sent > 0)
          delays.push_back(arrived - sent);
      }
    }
  }
  int min_events = 1 << 30, max_events = 0;
  for (auto& c : clients) {
    min_events = std::min(min_events, c.events);
    max_events = std::max(max_events, c.events);
    if (c.fd >= 0)
      ::close(c.fd);
  }
  std::sort(delays.begin(), delays.end());
  auto pct = [&](double p) {
    return delays.empty() ? -1 : delays[static_cast<size_t>(p * (delays.size() - 1))];
  };
  std::printf("refused %d; events per client: min %d, max %d; deliveries %zu\n", refused,
              min_events, max_events, delays.size());
  std::printf("delivery delay (event timestamp -> client): p50 %lld ms, p99 %lld ms, max %lld ms\n",
              static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)),
              static_cast<long long>(delays.empty() ? -1 : delays.back()));
  return 0;
}
