// Hostile HTTP against a real server: deep JSON, HEAD and OPTIONS, odd paths,
// and the per-address connection cap.
#include "tests/support/raw_socket.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace adserver::testing;
using nlohmann::json;

namespace {

TEST(Hostile, DeepJsonIsRefusedOnEveryRouteAndTheServerLives) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  std::string deep(100000, '[');
  auto bids = s.admin("PUT", "/admin/v1/campaigns/1/bids", "{\"bids\":" + deep + "}");
  EXPECT_EQ(bids.status, 400) << bids.body.substr(0, 200);
  EXPECT_EQ(bids.json["error"]["details"]["field"], "body");
  auto ad = s.call("POST", "/api/v1/ads/request", "{\"device_id\":" + deep + "}");
  EXPECT_EQ(ad.status, 400);
  auto nul = s.call("POST", "/api/v1/ads/request",
                    R"({"device_id":"3f2b8f0e-4a7c-4a57-9a1e-0c1d2e3f4a5b","session_id":"a\u0000b","placement":"HOME"})");
  EXPECT_EQ(nul.status, 400);
  EXPECT_EQ(nul.json["error"]["details"]["field"], "session_id");
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
  EXPECT_TRUE(s.stop());
}

TEST(Hostile, HeadOptionsAndOddPathsAreAnsweredCorrectly) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  auto head = exchange(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 15"), std::string::npos) << head;  // {"status":"ok"}
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");                   // no body
  // The connection is still usable after a HEAD.
  auto options = exchange(fd, "OPTIONS /admin/v1/campaigns/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(options.rfind("HTTP/1.1 204", 0), 0u) << options;
  EXPECT_NE(options.find("Allow: GET, DELETE, HEAD, OPTIONS"), std::string::npos) << options;
  auto odd = exchange(fd, "GET /\xff\xfe%00x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto body = odd.substr(odd.find("\r\n\r\n") + 4);
  EXPECT_EQ(odd.rfind("HTTP/1.1 404", 0), 0u) << odd;
  EXPECT_FALSE(json::parse(body, nullptr, false).is_discarded()) << body;
  ::close(fd);
  EXPECT_TRUE(s.stop());
}

TEST(Hostile, ConnectionsPerAddressAreCapped) {
  server_process s(std::map<std::string, std::string>{{"http.max_connections_per_address", "3"}});
  ASSERT_TRUE(s.start()) << s.output();
  // The readiness probes' connections must be gone before counting.
  usleep(500 * 1000);
  std::vector<int> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(connect_loopback(s.port()));
    ASSERT_GE(open.back(), 0);
  }
  // Each of the three is served; the fourth is closed at once.
  for (int fd : open)
    EXPECT_EQ(exchange(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  int fourth = connect_loopback(s.port());
  ASSERT_GE(fourth, 0);
  EXPECT_EQ(exchange(fourth, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), "");
  ::close(fourth);
  ::close(open.back());
  open.pop_back();
  std::string answer;
  for (int attempt = 0; attempt < 20 && answer.empty(); ++attempt) {
    usleep(50 * 1000);  // the server notices the close
    int again = connect_loopback(s.port());
    answer = exchange(again, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ::close(again);
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  for (int fd : open)
    ::close(fd);
  EXPECT_TRUE(s.stop());
}

}  // namespace
