// GET /metrics on a live server: Prometheus text that promtool accepts, with
// requests counted by route pattern (never by raw path) and status.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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
  auto r = s.call("GET", "/metrics");
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
  EXPECT_NE(r.body.find("adserver_actors{kind=\"pg-writer\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE adserver_pg_commit_seconds histogram"), std::string::npos);
  EXPECT_NE(r.body.find("adserver_build_info{version=\""), std::string::npos);
  EXPECT_NE(r.body.find("adserver_integrity_findings{check=\"balance_differs_from_history\"}"),
            std::string::npos);
}
