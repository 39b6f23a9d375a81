// Budgets and status leave the ranking at once: a campaign that cannot pay
// its next click is not served, and a token of a campaign that is no longer
// ACTIVE is not charged.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("9000", i);
}

/// An advertiser with one ACTIVE SEARCH campaign on `term`: (advertiser, campaign).
std::pair<int64_t, int64_t> active_campaign(const server_process& s, const std::string& term,
                                            int64_t bid, int64_t daily_budget) {
  campaign_setup setup;
  setup.bid = bid;
  setup.daily_budget = daily_budget;
  auto c = active_search_campaign(s, term, setup);
  return {c.advertiser, c.campaign};
}

http_result ad_request(const server_process& s, int device, const std::string& term) {
  return s.call("POST", "/api/v1/ads/request",
                json{{"device_id", uuid(device)}, {"session_id", "s"}, {"placement", "SEARCH"},
                     {"search_term", term}, {"max_ads", 2}}
                  .dump());
}

TEST(Budgets, ACampaignThatCannotPayItsNextClickLeavesAtOnce) {
  // 300 clients on one address: above the default per-address cap.
  server_process s(std::map<std::string, std::string>{{"http.max_connections_per_address", "1000"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "budget" + unique_suffix();
  // The issue's case: bid 1,000, a click costs 900 (the runner-up's bid),
  // daily budget 15,000: after 16 clicks 600 won are left.
  auto [top_advertiser, top] = active_campaign(s, term, 1000, 15'000);
  auto [other_advertiser, runner_up] = active_campaign(s, term, 900, 1'000'000);
  std::vector<std::string> tokens;
  for (int i = 0; i < 300; ++i) {
    auto r = ad_request(s, i, term);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json["ads"][0]["campaign_id"], top) << r.body;
    tokens.push_back(r.json["ads"][0]["token"]);
  }
  std::atomic<int> charged{0}, errors{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 300; ++i)
    clients.emplace_back([&, i] {
      auto r = s.call("POST", "/api/v1/ads/click",
                      json{{"token", tokens[i]}, {"device_id", uuid(i)}}.dump());
      if (r.status != 200)
        ++errors;
      else if (r.json["charged"] == true)
        ++charged;
    });
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(charged.load(), 16);
  auto budget = s.admin("GET", "/admin/v1/campaigns/" + std::to_string(top) + "/budget");
  EXPECT_EQ(budget.json["remaining_today"], 600) << budget.body;
  // Every later request ranks the runner-up first; the exhausted campaign is gone.
  for (int i = 300; i < 320; ++i) {
    auto r = ad_request(s, i, term);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_GE(r.json["ads"].size(), 1u) << r.body;
    EXPECT_EQ(r.json["ads"][0]["campaign_id"], runner_up) << r.body;
    for (auto& ad : r.json["ads"])
      EXPECT_NE(ad["campaign_id"], top) << r.body;
  }
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_clicks WHERE charged AND campaign_id = "
                    + std::to_string(top)),
            "16");
  EXPECT_TRUE(s.stop());
}

TEST(Budgets, APausedCampaignsTokenIsNotCharged) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "paused" + unique_suffix();
  auto [advertiser, campaign] = active_campaign(s, term, 500, 100'000);
  auto r = ad_request(s, 1, term);
  ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
  std::string token = r.json["ads"][0]["token"];
  auto second = ad_request(s, 2, term);
  ASSERT_EQ(second.json["ads"].size(), 1u) << second.body;
  ASSERT_EQ(s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(campaign) + "/status",
                    R"({"status":"PAUSED"})")
              .status,
            200);
  auto click = s.call("POST", "/api/v1/ads/click", json{{"token", token}, {"device_id", uuid(1)}}.dump());
  ASSERT_EQ(click.status, 200) << click.body;
  EXPECT_EQ(click.json["charged"], false);
  EXPECT_EQ(click.json["reason"], "CAMPAIGN_INACTIVE");
  auto balance = s.admin("GET", "/admin/v1/advertisers/" + std::to_string(advertiser) + "/balance");
  EXPECT_EQ(balance.json["balance"], 1'000'000);
  EXPECT_EQ(sql_one("SELECT reason FROM ad_clicks WHERE campaign_id = " + std::to_string(campaign)),
            "CAMPAIGN_INACTIVE");
  // Deleted is inactive too.
  ASSERT_EQ(s.admin("DELETE", "/admin/v1/campaigns/" + std::to_string(campaign)).status, 200);
  click = s.call("POST", "/api/v1/ads/click",
                 json{{"token", second.json["ads"][0]["token"]}, {"device_id", uuid(2)}}.dump());
  EXPECT_EQ(click.json["charged"], false);
  EXPECT_EQ(click.json["reason"], "CAMPAIGN_INACTIVE");
  EXPECT_EQ(sql_one("SELECT current_balance FROM ad_balances WHERE advertiser_id = "
                    + std::to_string(advertiser)),
            "1000000");
  // And it is no longer served.
  EXPECT_EQ(ad_request(s, 3, term).json["ads"].size(), 0u);
  EXPECT_TRUE(s.stop());
}

}  // namespace

namespace {

TEST(Passivation, IdleLedgersAndCampaignsLeaveMemoryAndComeBackFromPostgres) {
  server_process s(std::map<std::string, std::string>{{"entities.idle_seconds", "1"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "idle" + unique_suffix();
  auto [advertiser, campaign] = active_campaign(s, term, 500, 100'000);
  auto a = std::to_string(advertiser);
  EXPECT_EQ(s.admin("GET", "/admin/v1/advertisers/" + a + "/balance").json["balance"], 1'000'000);
  // Another writer (another node, an operator) changes PostgreSQL; a ledger
  // still in memory would not see it, a passivated one reads it back.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  sql_one("UPDATE ad_balances SET current_balance = 777, version = version + 1 WHERE advertiser_id = " + a);
  EXPECT_EQ(s.admin("GET", "/admin/v1/advertisers/" + a + "/balance").json["balance"], 777);
  auto charge = s.admin("PUT", "/admin/v1/advertisers/" + a + "/balance",
                        R"({"action":"charge","amount":23})");
  EXPECT_EQ(charge.json["balance_after"], 800) << charge.body;
  auto c = s.admin("GET", "/admin/v1/campaigns/" + std::to_string(campaign));
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.json["status"], "ACTIVE");
  EXPECT_TRUE(s.stop());
}

}  // namespace
