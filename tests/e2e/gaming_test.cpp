// Clicks and impressions cannot be gamed: an impression counts once per
// token, only charged clicks count toward pCTR, and a token is charged at
// most once in its whole lifetime.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdio>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("b000", i);
}

int64_t active_campaign(const server_process& s, const std::string& term) {
  campaign_setup setup;
  setup.balance = 100'000;
  setup.bid = 300;
  setup.total_budget = 100'000;
  return active_search_campaign(s, term, setup).campaign;
}

std::string stats(int64_t campaign, const char* column) {
  return sql_one(std::string{"SELECT "} + column + " FROM ad_campaign_stats WHERE campaign_id = "
                 + std::to_string(campaign));
}

TEST(Gaming, ReplayedTokensCountOnce) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "gaming" + unique_suffix();
  auto campaign = active_campaign(s, term);
  auto r = s.call("POST", "/api/v1/ads/request",
                  json{{"device_id", uuid(1)}, {"session_id", "s"}, {"placement", "SEARCH"},
                       {"search_term", term}}
                    .dump());
  ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
  std::string token = r.json["ads"][0]["token"];
  std::string request_id = r.json["request_id"];
  auto tracking = json{{"token", token}, {"device_id", uuid(1)}}.dump();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(s.call("POST", "/api/v1/ads/impression", tracking).status, 200);
  auto first = s.call("POST", "/api/v1/ads/click", tracking);
  EXPECT_EQ(first.json["charged"], true) << first.body;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(s.call("POST", "/api/v1/ads/click", tracking).json["reason"], "DUPLICATE_CLICK");
  // Statistics are flushed once a second.
  for (int i = 0; i < 30 && stats(campaign, "impressions").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(stats(campaign, "impressions"), "1");
  EXPECT_EQ(stats(campaign, "clicks"), "1");  // the duplicates do not count
  int impressions = 0;
  for (auto& [key, j] : read_topic(s.kafka_bootstrap(), "ad-events"))
    if (j.value("event_type", "") == "IMPRESSION" && j.value("request_id", "") == request_id)
      ++impressions;
  EXPECT_EQ(impressions, 1);
  EXPECT_TRUE(s.stop());
}

TEST(Gaming, ATokenIsChargedOnceInItsWholeLifetime) {
  // Tokens live two hours here: longer than the one-hour duplicate window.
  std::map<std::string, std::string> flags{{"ads.token_ttl_seconds", "7200"}};
  auto term = "lifetime" + unique_suffix();
  std::string token;
  int64_t campaign = 0;
  {
    server_process s{flags};
    ASSERT_TRUE(s.start()) << s.output();
    campaign = active_campaign(s, term);
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", uuid(2)}, {"session_id", "s"}, {"placement", "SEARCH"},
                         {"search_term", term}}
                      .dump());
    ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
    token = r.json["ads"][0]["token"];
    auto click = s.call("POST", "/api/v1/ads/click", json{{"token", token}, {"device_id", uuid(2)}}.dump());
    ASSERT_EQ(click.json["charged"], true) << click.body;
    EXPECT_TRUE(s.stop());
  }
  // Ninety minutes later (moved back in the database): past the duplicate
  // window, within the token's lifetime.
  sql_one("UPDATE ad_clicks SET clicked_at = now() - interval '90 minutes' WHERE campaign_id = "
          + std::to_string(campaign));
  server_process s{flags};
  ASSERT_TRUE(s.start()) << s.output();
  auto again = s.call("POST", "/api/v1/ads/click", json{{"token", token}, {"device_id", uuid(2)}}.dump());
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["charged"], false);
  EXPECT_EQ(again.json["reason"], "DUPLICATE_CLICK");
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_clicks WHERE charged AND campaign_id = "
                    + std::to_string(campaign)),
            "1");
  EXPECT_TRUE(s.stop());
}

TEST(Gaming, OversizedFieldsAreRefusedAndEventsKeepFlowing) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto order = "order-" + unique_suffix();
  std::string huge(1'000'000, 's');  // the body stays under the 1 MiB limit
  auto big = s.call("POST", "/api/v1/ads/conversion",
                    json{{"device_id", uuid(9)}, {"session_id", huge}, {"order_id", order + "-big"},
                         {"conversion_type", "PURCHASE"},
                         {"products", {{{"product_id", "P"}, {"revenue_amount", 100}}}}}
                      .dump());
  EXPECT_EQ(big.status, 400) << big.body.substr(0, 200);
  EXPECT_EQ(big.json["error"]["code"], "VALIDATION_FAILED");
  EXPECT_EQ(big.json["error"]["details"]["field"], "session_id");
  auto long_product = s.call("POST", "/api/v1/ads/conversion",
                             json{{"device_id", uuid(9)}, {"session_id", "s"}, {"order_id", order + "-p"},
                                  {"conversion_type", "PURCHASE"},
                                  {"products", {{{"product_id", std::string(101, 'p')}, {"revenue_amount", 1}}}}}
                               .dump());
  EXPECT_EQ(long_product.status, 400);
  EXPECT_EQ(long_product.json["error"]["details"]["field"], "products.product_id");
  auto click = s.call("POST", "/api/v1/ads/click",
                      json{{"token", "x.y"}, {"device_id", uuid(9)}, {"session_id", std::string(129, 's')}}.dump());
  EXPECT_EQ(click.status, 400);
  EXPECT_EQ(click.json["error"]["details"]["field"], "session_id");
  // The next event is published as usual.
  auto ok = s.call("POST", "/api/v1/ads/conversion",
                   json{{"device_id", uuid(9)}, {"session_id", "s"}, {"order_id", order},
                        {"conversion_type", "PURCHASE"},
                        {"products", {{{"product_id", "P"}, {"revenue_amount", 100}}}}}
                     .dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  bool seen = false, big_seen = false;
  for (int attempt = 0; attempt < 50 && !seen; ++attempt) {
    for (auto& [key, j] : read_topic(s.kafka_bootstrap(), "conversion-events")) {
      seen = seen || j.value("order_id", "") == order;
      big_seen = big_seen || j.value("order_id", "") == order + "-big";
    }
    if (!seen)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(seen) << "events stopped flowing";
  EXPECT_FALSE(big_seen);
  EXPECT_TRUE(s.stop());
}

}  // namespace
