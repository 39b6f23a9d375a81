// Click charging through HTTP: the auction price from the token, never over
// balance or budget, duplicates not charged, every charge reconciled across
// the API, PostgreSQL and the CLICK events read back from Kafka.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("8000", i);
}

TEST(Clicks, ConcurrentClicksRespectBudgetAndReconcile) {
  // 350 clients on one address: above the default per-address cap.
  server_process s(std::map<std::string, std::string>{{"http.max_connections_per_address", "1000"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto suffix = unique_suffix();
  auto term = "click" + suffix;
  auto adv = s.admin("POST", "/admin/v1/advertisers",
                     json{{"advertiser_name", "Clicks"},
                          {"business_number", unique_business_number()},
                          {"email", "c@test.example"},
                          {"business_type", "RETAIL"},
                          {"initial_balance", 5000}}
                       .dump());
  ASSERT_EQ(adv.status, 201);
  int64_t advertiser = adv.json["id"];
  auto pid = "CLK_" + suffix;
  ASSERT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a/b"}}.dump())
              .status,
            201);
  std::vector<int64_t> campaigns;
  for (int64_t bid : {900, 600}) {
    auto c = s.admin("POST", "/admin/v1/campaigns",
                     json{{"advertiser_id", advertiser},
                          {"campaign_name", "c"},
                          {"product_id", pid},
                          {"start_date", "2026-01-01"},
                          {"end_date", "2099-01-01"},
                          {"daily_budget", 3000}, {"delivery", "ACCELERATED"},
                          {"total_budget", 100000},
                          {"targeting", {{"keywords", {term}}}},
                          {"bids", {{"SEARCH", bid}}}}
                       .dump());
    ASSERT_EQ(c.status, 201) << c.body;
    campaigns.push_back(c.json["id"]);
    ASSERT_EQ(s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(campaigns.back()) + "/status",
                      R"({"status":"ACTIVE"})")
                .status,
              200);
  }
  auto top = campaigns[0];
  // 300 devices each get the top ad (price 600: the runner-up's bid).
  std::vector<std::string> tokens;
  for (int i = 0; i < 300; ++i) {
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", uuid(i)}, {"session_id", "s"}, {"placement", "SEARCH"},
                         {"search_term", term}, {"max_ads", 1}}
                      .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
    ASSERT_EQ(r.json["ads"][0]["campaign_id"], top);
    tokens.push_back(r.json["ads"][0]["token"]);
  }
  std::atomic<int64_t> charged_sum{0};
  std::atomic<int> charged{0}, duplicates{0}, exhausted{0}, errors{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 350; ++i) {
    int d = i < 300 ? i : i - 300;  // the last 50 repeat earlier devices
    clients.emplace_back([&, d] {
      auto r = s.call("POST", "/api/v1/ads/click",
                      json{{"token", tokens[d]}, {"device_id", uuid(d)}, {"session_id", "s"}}.dump());
      if (r.status != 200) {
        ++errors;
        return;
      }
      if (r.json["charged"] == true) {
        ++charged;
        charged_sum += r.json["amount"].get<int64_t>();
        EXPECT_EQ(r.json["amount"], 600);
      } else if (r.json["reason"] == "DUPLICATE_CLICK") {
        ++duplicates;
      } else if (r.json["reason"] == "BUDGET_EXHAUSTED") {
        ++exhausted;
      }
    });
  }
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(errors.load(), 0);
  // The daily budget (3000) is used up to within one click price (600).
  EXPECT_EQ(charged_sum.load(), 3000);
  EXPECT_EQ(charged.load(), 5);
  EXPECT_GT(exhausted.load(), 0);
  auto balance = s.admin("GET", "/admin/v1/advertisers/" + std::to_string(advertiser) + "/balance");
  EXPECT_EQ(balance.json["balance"], 5000 - charged_sum.load());
  auto budget = s.admin("GET", "/admin/v1/campaigns/" + std::to_string(top) + "/budget");
  EXPECT_EQ(budget.json["spent_today"], charged_sum.load());
  EXPECT_LE(budget.json["spent_today"].get<int64_t>(), 3000);
  EXPECT_EQ(budget.json["remaining_today"], 0);
  auto a = std::to_string(advertiser);
  EXPECT_EQ(sql_one("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(5000 - charged_sum.load()));
  EXPECT_EQ(sql_one("SELECT coalesce(sum(amount),0) FROM ad_balance_histories WHERE "
                    "transaction_type = 'CLICK' AND advertiser_id = " + a),
            std::to_string(charged_sum.load()));
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_clicks WHERE advertiser_id = " + a), "350");
  // A device clicking again within the hour is never charged twice.
  auto again = s.call("POST", "/api/v1/ads/click",
                      json{{"token", tokens[0]}, {"device_id", uuid(0)}}.dump());
  EXPECT_EQ(again.json["charged"], false);
  // CLICK events with balance_deducted=true add up to the same amount.
  int64_t event_sum = 0;
  int events = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    event_sum = 0;
    events = 0;
    for (auto& [key, j] : read_topic(s.kafka_bootstrap(), "ad-events")) {
      if (j.value("event_type", "") != "CLICK" || j.value("campaign_id", int64_t{0}) != top)
        continue;
      ++events;
      EXPECT_TRUE(j.contains("remaining_balance"));
      if (j.value("balance_deducted", false))
        event_sum += j.value("actual_price", int64_t{0});
    }
    if (events >= 351)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(events, 351);
  EXPECT_EQ(event_sum, charged_sum.load());
}

TEST(Clicks, KafkaOutageStillChargesAndEventsArriveOnceLater) {
  auto spool = "/tmp/adserver-test-spool-clicks-" + unique_suffix() + ".bin";
  auto suffix = unique_suffix();
  auto term = "outage" + suffix;
  int64_t campaign = 0;
  {
    server_process offline(std::map<std::string, std::string>{
      {"kafka.brokers", "127.0.0.1:1"}, {"kafka.message_timeout_ms", "500"},
      {"kafka.spool_path", spool}});
    ASSERT_TRUE(offline.start()) << offline.output();
    auto adv = offline.admin("POST", "/admin/v1/advertisers",
                             json{{"advertiser_name", "Outage"},
                                  {"business_number", unique_business_number()},
                                  {"email", "o@test.example"},
                                  {"business_type", "RETAIL"},
                                  {"initial_balance", 10000}}
                               .dump());
    ASSERT_EQ(adv.status, 201);
    auto pid = "OUT_" + suffix;
    ASSERT_EQ(offline.admin("POST", "/admin/v1/products",
                            json{{"product_id", pid}, {"product_name", "p"}, {"category", "a"}}.dump())
                .status,
              201);
    auto c = offline.admin("POST", "/admin/v1/campaigns",
                           json{{"advertiser_id", adv.json["id"]}, {"campaign_name", "c"},
                                {"product_id", pid}, {"start_date", "2026-01-01"},
                                {"end_date", "2099-01-01"}, {"daily_budget", 5000}, {"delivery", "ACCELERATED"},
                                {"total_budget", 5000}, {"targeting", {{"keywords", {term}}}},
                                {"bids", {{"SEARCH", 300}}}}
                             .dump());
    ASSERT_EQ(c.status, 201);
    campaign = c.json["id"];
    ASSERT_EQ(offline.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(campaign) + "/status",
                            R"({"status":"ACTIVE"})").status, 200);
    for (int i = 0; i < 5; ++i) {
      auto r = offline.call("POST", "/api/v1/ads/request",
                            json{{"device_id", uuid(1000 + i)}, {"session_id", "s"},
                                 {"placement", "SEARCH"}, {"search_term", term}}.dump());
      ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
      auto click = offline.call("POST", "/api/v1/ads/click",
                                json{{"token", r.json["ads"][0]["token"]},
                                     {"device_id", uuid(1000 + i)}}.dump());
      ASSERT_EQ(click.status, 200);
      EXPECT_EQ(click.json["charged"], true);  // money does not wait for Kafka
    }
    EXPECT_TRUE(offline.stop()) << "no clean exit on SIGTERM";
  }
  server_process online(std::map<std::string, std::string>{{"kafka.spool_path", spool}});
  ASSERT_TRUE(online.start()) << online.output();
  auto count_clicks = [&] {
    int clicks = 0;
    for (auto& [key, j] : read_topic(online.kafka_bootstrap(), "ad-events"))
      if (j.value("event_type", "") == "CLICK" && j.value("campaign_id", int64_t{0}) == campaign
          && j.value("balance_deducted", false))
        ++clicks;
    return clicks;
  };
  for (int attempt = 0; attempt < 50 && count_clicks() < 5; ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int clicks = count_clicks();
  EXPECT_EQ(clicks, 5);  // none lost, none twice
  EXPECT_TRUE(online.stop()) << "no clean exit on SIGTERM";
  std::remove(spool.c_str());
  std::remove((spool + ".offset").c_str());
}

TEST(Clicks, ForeignOrTamperedTokensChargeNothing) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto r = s.call("POST", "/api/v1/ads/click",
                  json{{"token", "eyJ4IjoxfQ.AAAA"}, {"device_id", uuid(1)}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "INVALID_TOKEN");
  r = s.call("POST", "/api/v1/ads/click", json{{"device_id", uuid(1)}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED");
  r = s.call("POST", "/api/v1/ads/click",
             json{{"token", "eyJ4IjoxfQ.AAAA"}, {"device_id", uuid(1)}, {"click_time", "yesterday"}}
               .dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED");
  EXPECT_EQ(r.json["error"]["details"]["field"], "click_time");
}

}  // namespace
