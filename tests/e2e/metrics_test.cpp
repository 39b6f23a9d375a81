// GET /metrics on a live server: Prometheus text that promtool accepts, with
// requests counted by route pattern (never by raw path) and status.
#include "tests/support/raw_socket.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include <unistd.h>

using namespace adserver::testing;

namespace {

/// promtool check metrics on `text`: (exit status, its output).
std::pair<int, std::string> promtool(const std::string& text) {
  auto path = "/tmp/adserver-metrics-" + unique_suffix() + ".txt";
  std::ofstream(path) << text;
  std::string out;
  auto* p = ::popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  if (!p)
    return {-1, "cannot run promtool"};
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int status = ::pclose(p);
  std::remove(path.c_str());
  return {WEXITSTATUS(status), out};
}

}  // namespace

TEST(Metrics, PromtoolAcceptsTheExpositionOfALiveServer) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
  EXPECT_EQ(s.admin("GET", "/admin/v1/advertisers/123456789").status, 404);
  EXPECT_EQ(s.call("GET", "/no/such/path/" + unique_suffix()).status, 404);
  // Money figures: the admin token is required.
  EXPECT_EQ(s.call("GET", "/metrics").status, 401);
  auto r = s.admin("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").find("text/plain"), std::string::npos);
  auto [status, out] = promtool(r.body);
  EXPECT_EQ(status, 0) << out << "\n" << r.body;
  EXPECT_NE(r.body.find("adserver_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
    << r.body;
  EXPECT_NE(r.body.find("route=\"/admin/v1/advertisers/{id}\",method=\"GET\",status=\"404\"} 1"),
            std::string::npos)
    << r.body;
  // Unknown paths share one label value: a scan cannot grow the series.
  EXPECT_EQ(r.body.find("/no/such/path"), std::string::npos);
  EXPECT_NE(r.body.find("route=\"unmatched\""), std::string::npos);
  EXPECT_NE(r.body.find("adserver_postgres_up 1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("adserver_http_request_duration_seconds_bucket"), std::string::npos);
  // The node's own figures: actors by kind, commits, build.
  EXPECT_NE(r.body.find("adserver_actors{kind=\"directory\"} 1\n"), std::string::npos);
  // The serving writer, the counters' (dashboards never delay money) and
  // membership's own (heartbeats never queue behind money).
  EXPECT_NE(r.body.find("adserver_actors{kind=\"pg-writer\"} 3\n"), std::string::npos);
  EXPECT_NE(r.body.find("adserver_postgres_counters_up 1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("adserver_actors{kind=\"membership\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE adserver_pg_commit_seconds histogram"), std::string::npos);
  EXPECT_NE(r.body.find("adserver_build_info{version=\""), std::string::npos);
  EXPECT_NE(r.body.find("adserver_integrity_findings{check=\"balance_differs_from_history\"}"),
            std::string::npos);
}

TEST(Metrics, RequestsAndConnectionsRefusedBeforeRoutingAreCounted) {
  server_process s(std::map<std::string, std::string>{{"http.max_connections_per_address", "1"}});
  ASSERT_TRUE(s.start()) << s.output();
  // Malformed HTTP: 400 before any route. (The one connection this address
  // may hold is given back only once the server has seen the last one close:
  // until then a connection is refused, so try again.)
  std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
  bool answered = false;
  for (int i = 0; i < 50 && !answered; ++i) {
    int bad = connect_loopback(s.port());
    ASSERT_GE(bad, 0);
    answered = exchange(bad, garbage, 5000).find(" 400 ") != std::string::npos;
    ::close(bad);
    if (!answered)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(answered);
  // One connection per address: while one is held, the next is closed at once.
  int held = connect_loopback(s.port());
  ASSERT_GE(held, 0);
  int refused = connect_loopback(s.port());
  if (refused >= 0) {
    EXPECT_EQ(exchange(refused, "", 5000), "");  // closed without an answer
    ::close(refused);
  }
  ::close(held);
  http_result r;
  for (int i = 0; i < 50; ++i) {  // the held slot is given back when the server sees the close
    r = s.admin("GET", "/metrics");
    if (r.status == 200)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("adserver_http_requests_refused_total{status=\"400\"} 1\n"),
            std::string::npos)
    << r.body;
  EXPECT_NE(r.body.find("adserver_http_requests_refused_total{status=\"413\"} 0\n"),
            std::string::npos);
  const std::string sample = "\nadserver_http_connections_refused_total ";
  auto at = r.body.find(sample);
  ASSERT_NE(at, std::string::npos) << r.body;
  EXPECT_GE(std::stoll(r.body.substr(at + sample.size())), 1) << r.body;
  auto [status, out] = promtool(r.body);
  EXPECT_EQ(status, 0) << out;
  EXPECT_TRUE(s.stop());
}
