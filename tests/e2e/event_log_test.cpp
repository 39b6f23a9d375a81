// The event log seen from outside: with Kafka unreachable and a tiny spool
// cap, the tracking endpoints answer 503 UNAVAILABLE with Retry-After instead
// of accepting events that could not be kept, the admin API goes on, and the
// refused events are in the dead-letter file.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

int64_t make_campaign(const server_process& s) {
  auto adv = s.admin("POST", "/admin/v1/advertisers",
                     json{{"advertiser_name", "EventLog"},
                          {"business_number", unique_business_number()},
                          {"email", "eventlog@test.example"},
                          {"business_type", "RETAIL"}}
                       .dump());
  EXPECT_EQ(adv.status, 201) << adv.body;
  auto pid = "EL_" + unique_suffix();
  EXPECT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a/b"}}.dump())
              .status,
            201);
  auto c = s.admin("POST", "/admin/v1/campaigns",
                   json{{"advertiser_id", adv.json["id"]},
                        {"campaign_name", "eventlog"},
                        {"product_id", pid},
                        {"start_date", "2026-01-01"},
                        {"end_date", "2099-01-01"},
                        {"daily_budget", 1000}, {"delivery", "ACCELERATED"},
                        {"total_budget", 5000},
                        {"bids", {{"HOME", 100}}}}
                     .dump());
  EXPECT_EQ(c.status, 201) << c.body;
  return c.json.value("id", int64_t{0});
}

TEST(EventLog, AFullSpoolTurnsTrackingAwayWithRetryAfter) {
  auto spool = "/tmp/adserver-test-spool-full-" + unique_suffix() + ".bin";
  server_process s({{"kafka.brokers", "127.0.0.1:1"},
                    {"kafka.message_timeout_ms", "500"},
                    {"kafka.spool_max_bytes", "1"},
                    {"kafka.spool_path", spool}});
  ASSERT_TRUE(s.start()) << s.output();
  // Before anything is spooled, tracking is open (an empty body is a 400).
  auto open = s.call("POST", "/api/v1/ads/impression", "{}");
  EXPECT_EQ(open.status, 400) << open.body;
  // CAMPAIGN_CREATED times out and fills the spool (cap 1 byte).
  auto first = make_campaign(s);
  ASSERT_GT(first, 0);
  http_result refused;
  for (int i = 0; i < 150; ++i) {
    refused = s.call("POST", "/api/v1/ads/impression", "{}");
    if (refused.status == 503)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"], "UNAVAILABLE");
  EXPECT_EQ(refused.header("Retry-After"), "5");
  for (auto path : {"/api/v1/ads/click", "/api/v1/ads/conversion"}) {
    auto r = s.call("POST", path, "{}");
    EXPECT_EQ(r.status, 503) << path << ": " << r.body;
    EXPECT_EQ(r.header("Retry-After"), "5") << path;
  }
  // The admin API still works; its event cannot be spooled: dead letter.
  auto second = make_campaign(s);
  ASSERT_GT(second, 0);
  std::vector<json> dead;
  for (int i = 0; i < 100 && dead.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(spool + ".dead");
    for (std::string line; std::getline(in, line);)
      dead.push_back(json::parse(line, nullptr, false));
  }
  ASSERT_FALSE(dead.empty());
  EXPECT_EQ(dead[0]["reason"], "spool full");
  EXPECT_EQ(dead[0]["topic"], "campaign-events");
  auto payload = json::parse(dead[0]["payload"].get<std::string>(), nullptr, false);
  EXPECT_EQ(payload.value("campaign_id", int64_t{0}), second) << dead[0].dump();
  EXPECT_TRUE(s.stop()) << "no clean exit on SIGTERM";
  for (auto suffix : {"", ".offset", ".dead", ".cut"})
    std::remove((spool + suffix).c_str());
}

}  // namespace
