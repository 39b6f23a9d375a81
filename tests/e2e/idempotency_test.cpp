// Idempotency-Key on money-changing admin calls: the same key and body
// answer the original response with one effect, also after a restart; the
// same key with another body is 422 IDEMPOTENCY_KEY_REUSED.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

TEST(Idempotency, SameKeySameBodyAppliesOnceAcrossRestarts) {
  auto bn = unique_business_number();
  auto adv_body = json{{"advertiser_name", "Idem"},
                       {"business_number", bn},
                       {"email", "i@test.example"},
                       {"business_type", "RETAIL"},
                       {"initial_balance", 1000}}
                    .dump();
  auto key = "idem-" + unique_suffix();
  auto charge = json{{"action", "charge"}, {"amount", 700}, {"memo", key}}.dump();
  http_result created, charged;
  std::string advertiser;
  {
    server_process s;
    ASSERT_TRUE(s.start()) << s.output();
    created = s.admin("POST", "/admin/v1/advertisers", adv_body, {{"Idempotency-Key", key + "-adv"}});
    ASSERT_EQ(created.status, 201) << created.body;
    advertiser = std::to_string(created.json["id"].get<int64_t>());
    auto again = s.admin("POST", "/admin/v1/advertisers", adv_body, {{"Idempotency-Key", key + "-adv"}});
    EXPECT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(again.json, created.json);
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
    // Concurrent first uses of one key: one effect, every answer the same.
    std::vector<http_result> answers(8);
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i)
      ts.emplace_back([&, i] {
        answers[i] = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge,
                             {{"Idempotency-Key", key}});
      });
    for (auto& t : ts)
      t.join();
    for (auto& a : answers)
      if (a.status == 200) {
        if (charged.status == 0)
          charged = a;
        EXPECT_EQ(a.json, charged.json);
      } else {
        // A request that found the key in progress may be told to retry.
        EXPECT_EQ(a.status, 503) << a.body;
      }
    ASSERT_EQ(charged.status, 200);
    EXPECT_EQ(charged.json["balance_after"], 1700);
    // Same key, other body: refused, nothing applied.
    auto other = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance",
                         json{{"action", "charge"}, {"amount", 701}}.dump(),
                         {{"Idempotency-Key", key}});
    EXPECT_EQ(other.status, 422) << other.body;
    EXPECT_EQ(other.json["error"]["code"], "IDEMPOTENCY_KEY_REUSED");
    auto bad = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge,
                       {{"Idempotency-Key", std::string(300, 'k')}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json["error"]["details"]["field"], "Idempotency-Key");
    EXPECT_TRUE(s.stop());
  }
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto after = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge,
                       {{"Idempotency-Key", key}});
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.json, charged.json);
  auto recreated = s.admin("POST", "/admin/v1/advertisers", adv_body, {{"Idempotency-Key", key + "-adv"}});
  EXPECT_EQ(recreated.status, 201);
  EXPECT_EQ(recreated.json, created.json);
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_balance_histories WHERE memo = '" + key + "'"), "1");
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_advertisers WHERE business_number = '" + bn + "'"), "1");
  EXPECT_EQ(sql_one("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + advertiser),
            "1700");
  // A new key is a new change.
  auto next = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge,
                      {{"Idempotency-Key", key + "-2"}});
  EXPECT_EQ(next.json["balance_after"], 2400);
  // Campaign creation too.
  auto pid = "IDM_" + unique_suffix();
  ASSERT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  auto campaign = json{{"advertiser_id", std::stoll(advertiser)}, {"campaign_name", "c"},
                       {"product_id", pid}, {"start_date", "2026-01-01"},
                       {"end_date", "2099-01-01"}, {"daily_budget", 1000},
                       {"total_budget", 5000}, {"targeting", {{"keywords", {"idem"}}}},
                       {"bids", {{"SEARCH", 100}}}}
                    .dump();
  auto c1 = s.admin("POST", "/admin/v1/campaigns", campaign, {{"Idempotency-Key", key + "-c"}});
  auto c2 = s.admin("POST", "/admin/v1/campaigns", campaign, {{"Idempotency-Key", key + "-c"}});
  ASSERT_EQ(c1.status, 201) << c1.body;
  EXPECT_EQ(c2.status, 201);
  EXPECT_EQ(c2.json, c1.json);
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_campaigns WHERE product_id = '" + pid + "'"), "1");
  EXPECT_TRUE(s.stop());
}

}  // namespace
