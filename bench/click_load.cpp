// Benchmark load generator (not a test), phase 2 of bench/clicks: POSTs each
// click token of TOKENS_DIR/tokens-*.txt once (then wraps around, making
// duplicates) over CONNECTIONS keep-alive connections for SECONDS, and prints
// the rate it really achieved, the answers by status and latency percentiles.
//
// Two ways to pace it:
// - --rate N (open loop): click k is due at start + k/N and goes out on any
//   idle connection; its latency counts from when it was due, so a stalled
//   server is charged for the clicks that queued behind the stall
//   (no coordinated omission).
// - --pace-ms N (closed loop, as the wrk script it replaces did): after each
//   answer a connection waits a uniform random 0..2N ms; latency counts from
//   the send.
//
// One thread and epoll: the generator shares the 2 cores with the server,
// PostgreSQL and Redis, so it must cost little (wrk with a Lua script per
// request took most of a core at 5k/s, and its threads started seconds apart
// while each decoded its token file).
//   build/bench/click_load PORT TOKENS_DIR CONNECTIONS SECONDS (--rate N | --pace-ms N)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

/// The claims part of a token (before the first '.') decoded from base64url.
std::string claims_of(const std::string& token) {
  static const auto value = [] {
    std::array<int, 256> v{};
    v.fill(-1);
    const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < alphabet.size(); ++i)
      v[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    return v;
  }();
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char ch : token) {
    if (ch == '.')
      break;
    int v = value[static_cast<unsigned char>(ch)];
    if (v < 0)
      return {};
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

/// Every click request, ready to write: one per token line of the files.
std::vector<std::string> load_requests(const std::string& dir, int port) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (auto* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("tokens-", 0) == 0)
        files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> requests;
  for (auto& file : files) {
    std::ifstream in{file};
    std::string token;
    while (std::getline(in, token)) {
      auto claims = claims_of(token);
      auto at = claims.find("\"dev\":\"");
      if (at == std::string::npos)
        continue;
      at += 7;
      auto device = claims.substr(at, claims.find('"', at) - at);
      auto body = "{\"token\":\"" + token + "\",\"device_id\":\"" + device + "\"}";
      requests.push_back("POST /api/v1/ads/click HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                         + "\r\nContent-Type: application/json\r\nContent-Length: "
                         + std::to_string(body.size()) + "\r\n\r\n" + body);
    }
  }
  return requests;
}

struct connection {
  int fd = -1;
  const std::string* request = nullptr;  // being written or awaiting its answer
  size_t written = 0;
  std::string in;
  time_point counted_from;  // due time (--rate) or send time (--pace-ms)
  time_point next_send;     // --pace-ms only
  bool busy = false;
};

/// Bytes of a complete answer at the front of `in` and its status, or 0.
size_t complete_answer(const std::string& in, int& status) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos)
    return 0;
  status = in.size() > 12 ? std::atoi(in.c_str() + 9) : 0;
  size_t length = 0;
  size_t line = in.find("\r\n") + 2;
  while (line < end) {
    auto next = in.find("\r\n", line);
    if (next - line > 15 && strncasecmp(in.c_str() + line, "content-length:", 15) == 0)
      length = std::strtoul(in.c_str() + line + 15, nullptr, 10);
    line = next + 2;
  }
  auto total = end + 4 + length;
  return in.size() >= total ? total : 0;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

double ms_between(time_point a, time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 || (std::string{argv[5]} != "--rate" && std::string{argv[5]} != "--pace-ms")) {
    std::fprintf(stderr,
                 "usage: %s PORT TOKENS_DIR CONNECTIONS SECONDS (--rate N | --pace-ms N)\n",
                 argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  auto requests = load_requests(argv[2], port);
  int connections = std::max(1, std::atoi(argv[3]));
  double seconds = std::atof(argv[4]);
  bool open_loop = std::string{argv[5]} == "--rate";
  double pace_value = std::atof(argv[6]);
  if (requests.empty()) {
    std::fprintf(stderr, "no tokens in %s\n", argv[2]);
    return 2;
  }
  // --pace-ms 0: each connection sends again at once (saturating).
  if (open_loop ? !(pace_value > 0 && pace_value <= 1e6) : !(pace_value >= 0)) {
    std::fprintf(stderr, "--rate must be 1..1000000 clicks/s, --pace-ms at least 0\n");
    return 2;
  }
  auto interval = std::chrono::duration_cast<clock_type::duration>(
    std::chrono::duration<double>(open_loop ? 1.0 / pace_value : pace_value / 1000.0));

  int ep = epoll_create1(0);
  std::vector<connection> conns(static_cast<size_t>(connections));
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_to(port);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  std::mt19937_64 rng{42};
  std::deque<size_t> idle;
  std::deque<time_point> due;  // --rate: clicks due but not yet sent
  std::vector<float> latencies;
  latencies.reserve(static_cast<size_t>(seconds * 20000));
  std::map<int, int64_t> by_status;
  size_t next_request = 0;
  int64_t scheduled = 0;
  const auto start = clock_type::now();
  const auto stop_sending = start + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(seconds));
  auto last_answer = start;
  double cpu_before = cpu_seconds();
  for (size_t i = 0; i < conns.size(); ++i) {
    if (open_loop)
      idle.push_back(i);
    else
      conns[i].next_send = start + std::chrono::duration_cast<clock_type::duration>(
                                     interval * std::uniform_real_distribution<>(0, 2)(rng));
  }

  auto flush = [&](connection& c) {
    while (c.written < c.request->size()) {
      auto n = ::send(c.fd, c.request->data() + c.written, c.request->size() - c.written,
                      MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN)
          return;
        std::perror("send");
        std::exit(1);
      }
      c.written += static_cast<size_t>(n);
    }
  };
  auto send_on = [&](connection& c, time_point counted_from) {
    c.request = &requests[next_request++ % requests.size()];
    c.written = 0;
    c.busy = true;
    c.counted_from = counted_from;
    flush(c);
  };
  int64_t in_flight = 0;
  int64_t missing = 0;   // answers still missing 10 s after the end
  bool closed = false;   // the server closed a connection
  int64_t charged = 0;   // answers saying "charged":true
  epoll_event events[256];
  for (;;) {
    auto now = clock_type::now();
    bool sending = now < stop_sending;
    bool all_scheduled = !open_loop || start + interval * scheduled >= stop_sending;
    if (!sending && all_scheduled && in_flight == 0 && due.empty())
      break;
    if (closed)
      break;
    if (ms_between(stop_sending, now) > 10000) {
      missing = in_flight + static_cast<int64_t>(due.size());
      std::fprintf(stderr, "%lld answers still missing 10 s after the end\n",
                   static_cast<long long>(missing));
      break;
    }
    // Start what is due.
    time_point wake = now + std::chrono::milliseconds(50);
    if (open_loop) {
      for (;;) {  // every click due by now, also those due just before the end
        auto t = start + interval * scheduled;
        if (t > now || t >= stop_sending) {
          if (t < stop_sending)
            wake = std::min(wake, t);
          break;
        }
        due.push_back(t);
        ++scheduled;
      }
      while (!due.empty() && !idle.empty()) {
        auto& c = conns[idle.front()];
        idle.pop_front();
        send_on(c, due.front());
        due.pop_front();
        ++in_flight;
      }
    } else if (sending) {
      for (auto& c : conns) {
        if (c.busy)
          continue;
        if (c.next_send <= now) {
          send_on(c, now);
          ++in_flight;
        } else {
          wake = std::min(wake, c.next_send);
        }
      }
    }
    auto wait = std::max(clock_type::duration::zero(), wake - clock_type::now());
    timespec ts{static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(wait).count()),
                static_cast<long>((wait % std::chrono::seconds(1)).count())};
    int n = epoll_pwait2(ep, events, 256, &ts, nullptr);
    if (n < 0 && errno != EINTR) {
      std::perror("epoll_pwait2");
      return 1;
    }
    now = clock_type::now();
    for (int e = 0; e < n; ++e) {
      auto i = static_cast<size_t>(events[e].data.u64);
      auto& c = conns[i];
      if (c.busy && c.written < c.request->size())
        flush(c);
      char buf[16384];
      for (;;) {
        auto got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.in.append(buf, static_cast<size_t>(got));
          continue;
        }
        if (got < 0 && errno == EINTR)
          continue;
        if (got == 0 || errno != EAGAIN) {
          std::fprintf(stderr, "connection %zu closed by the server\n", i);
          closed = true;
        }
        break;
      }
      int status = 0;
      while (size_t used = complete_answer(c.in, status)) {
        if (c.in.find("\"charged\":true") < used)
          ++charged;
        c.in.erase(0, used);
        if (!c.busy)
          continue;
        c.busy = false;
        --in_flight;
        ++by_status[status];
        latencies.push_back(static_cast<float>(ms_between(c.counted_from, now)));
        last_answer = now;
        if (open_loop)
          idle.push_back(i);
        else
          c.next_send = now + std::chrono::duration_cast<clock_type::duration>(
                                interval * std::uniform_real_distribution<>(0, 2)(rng));
      }
    }
  }
  double cpu = cpu_seconds() - cpu_before;
  double window = ms_between(start, last_answer) / 1000.0;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    return latencies.empty()
             ? 0.0
             : latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
  };
  int64_t non200 = 0;
  std::string statuses;
  for (auto& [status, count] : by_status) {
    statuses += " " + std::to_string(status) + ":" + std::to_string(count);
    if (status != 200)
      non200 += count;
  }
  std::printf("clicks answered: %zu in %.2f s (first send to last answer): %.0f/s; by status:%s\n",
              latencies.size(), window, latencies.size() / std::max(window, 1e-9),
              statuses.c_str());
  std::printf("latency ms (%s): p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.1f\n",
              open_loop ? "from when each click was due" : "from each send", pct(0.5), pct(0.9),
              pct(0.99), pct(0.999), latencies.empty() ? 0.0 : latencies.back());
  std::printf("load generator CPU: %.2f s (%.0f %% of one core)\n", cpu,
              100.0 * cpu / std::max(window, 1e-9));
  std::printf("charged: %lld of %zu answered (the others were refused, e.g. DUPLICATE_CLICK)\n",
              static_cast<long long>(charged), latencies.size());
  if (next_request > requests.size())
    std::printf("tokens: %zu for %zu clicks: the rest were sent again (duplicates)\n",
                requests.size(), next_request);
  std::printf("non-200 responses: %lld\n", static_cast<long long>(non200));
  return missing > 0 || closed ? 1 : 0;
}
