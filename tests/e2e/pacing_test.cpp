// Budget pacing end to end (SPEC.md "Campaign delivery"): a STANDARD campaign
// that has spent its share of the business day so far leaves the auction
// while an ACCELERATED one would not, the budget read shows its target, and
// the hourly traffic it is paced by is written to ad_traffic_hourly.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("7ace", i);
}

/// A fixed-offset zone in which it is now between 01:00 and 02:00: a small,
/// known part of the business day has passed, whenever the test runs.
struct zone {
  std::string name;
  int offset_hours = 0;  // local = UTC + offset
};
zone early_morning_zone() {
  auto t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  zone z;
  z.offset_hours = 1 - utc.tm_hour;
  if (z.offset_hours < -12)
    z.offset_hours += 24;
  // POSIX signs: Etc/GMT-9 is nine hours ahead of UTC.
  z.name = z.offset_hours == 0  ? "Etc/GMT"
           : z.offset_hours > 0 ? "Etc/GMT-" + std::to_string(z.offset_hours)
                                : "Etc/GMT+" + std::to_string(-z.offset_hours);
  return z;
}

/// Seconds since local midnight in that zone.
int64_t seconds_into_day(const zone& z) {
  auto local = static_cast<int64_t>(std::time(nullptr)) + z.offset_hours * 3600;
  return ((local % 86400) + 86400) % 86400;
}

http_result ad_request(const server_process& s, int device, const std::string& term) {
  return s.call("POST", "/api/v1/ads/request",
                json{{"device_id", uuid(device)}, {"session_id", "s"}, {"placement", "SEARCH"},
                     {"search_term", term}, {"max_ads", 2}}
                  .dump());
}

/// The served ad of `campaign` in an ad response; null when it is not there.
const json* ad_of(const http_result& r, int64_t campaign) {
  for (auto& ad : r.json["ads"])
    if (ad["campaign_id"] == campaign)
      return &ad;
  return nullptr;
}

}  // namespace

TEST(Pacing, AStandardCampaignAheadOfItsShareOfTheDayWaits) {
  // A uniform curve: the target is the budget times the time of day (the
  // learned curve is unit-tested; the test database keeps other runs' traffic).
  auto z = early_morning_zone();
  server_process s({{"time_zone", z.name}, {"pacing.curve", "uniform"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "pacing" + unique_suffix();
  campaign_setup paced;
  paced.balance = 100'000'000;
  paced.bid = 50'000;
  paced.daily_budget = 1'000'000;
  paced.total_budget = 100'000'000;
  paced.delivery = "STANDARD";
  auto top = active_search_campaign(s, term, paced);
  campaign_setup rival;  // ACCELERATED, bids less: it sets the top's price
  rival.balance = 1'000'000'000;
  rival.bid = 40'000;
  rival.daily_budget = 100'000'000;
  rival.total_budget = 1'000'000'000;
  auto runner_up = active_search_campaign(s, term, rival);
  auto id = std::to_string(top.campaign);
  auto budget_path = "/admin/v1/campaigns/" + id + "/budget";

  auto before = s.admin("GET", budget_path);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(before.json["delivery"], "STANDARD");
  EXPECT_EQ(before.json["spent_today"], 0);
  int64_t target = before.json.value("pacing_target_today", int64_t{-1});
  // 1,000,000 x the part of the day passed + the 2 % allowance; the clock
  // moves about 12 won a second.
  auto expected = 1'000'000 * seconds_into_day(z) / 86400 + 20'000;
  EXPECT_NEAR(static_cast<double>(target), static_cast<double>(expected), 120.0) << before.body;
  ASSERT_LT(target, 1'000'000 - 100'000) << "no room below the daily budget: " << before.body;

  // Click the paced campaign's ads until auctions stop serving it.
  int64_t charged = 0;
  bool held_back = false;
  for (int i = 0; i < 60 && !held_back; ++i) {
    auto r = ad_request(s, i, term);
    ASSERT_EQ(r.status, 200) << r.body;
    auto ad = ad_of(r, top.campaign);
    if (!ad) {
      held_back = true;
      break;
    }
    auto click = s.call("POST", "/api/v1/ads/click",
                        json{{"token", (*ad)["token"]}, {"device_id", uuid(i)}}.dump());
    ASSERT_EQ(click.status, 200) << click.body;
    ASSERT_EQ(click.json["charged"], true) << click.body;
    charged += click.json["amount"].get<int64_t>();
  }
  ASSERT_TRUE(held_back) << "still served after spending " << charged;

  // Held back by pacing, not by its budget: spend is past the target, far
  // below the daily budget, and no more than a step past it (auctions hear of
  // a STANDARD campaign's spend at every percent of its budget).
  auto after = s.admin("GET", budget_path);
  ASSERT_EQ(after.status, 200) << after.body;
  auto spent = after.json["spent_today"].get<int64_t>();
  auto target_now = after.json["pacing_target_today"].get<int64_t>();
  EXPECT_EQ(spent, charged);
  // The target has grown since the last click by about 12 won a second.
  EXPECT_GT(spent, target_now - 1'000) << after.body;
  EXPECT_LE(spent, target_now + 10'000 + 50'000) << after.body;
  EXPECT_LT(spent, 1'000'000 - 50'000) << after.body;
  EXPECT_EQ(sql_one("SELECT coalesce(sum(amount), 0) FROM ad_clicks WHERE charged AND campaign_id = "
                    + id),
            std::to_string(charged));
  for (int i = 100; i < 105; ++i) {
    auto r = ad_request(s, i, term);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(ad_of(r, top.campaign), nullptr) << r.body;
    ASSERT_GE(r.json["ads"].size(), 1u) << r.body;
    EXPECT_EQ(r.json["ads"][0]["campaign_id"], runner_up.campaign) << r.body;
  }

  // ACCELERATED: the change reaches the auctions and it serves again.
  auto put = s.admin("PUT", "/admin/v1/campaigns/" + id + "/delivery",
                     R"({"delivery":"ACCELERATED"})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json["delivery"], "ACCELERATED");
  EXPECT_EQ(sql_one("SELECT delivery FROM ad_campaigns WHERE id = " + id), "ACCELERATED");
  bool back = false;
  for (int i = 200; i < 260 && !back; ++i) {
    auto r = ad_request(s, i, term);
    ASSERT_EQ(r.status, 200) << r.body;
    back = ad_of(r, top.campaign) != nullptr;
    if (!back)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(back);
  auto unpaced = s.admin("GET", budget_path);
  EXPECT_EQ(unpaced.json["delivery"], "ACCELERATED");
  EXPECT_EQ(unpaced.json["pacing_target_today"], 1'000'000);
  EXPECT_TRUE(s.stop());
}

TEST(Pacing, DeliveryDefaultsToStandardAndIsValidated) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto adv = s.admin("POST", "/admin/v1/advertisers",
                     json{{"advertiser_name", "Pacing"},
                          {"business_number", unique_business_number()},
                          {"email", "p@test.example"},
                          {"business_type", "RETAIL"},
                          {"initial_balance", 1000}}
                       .dump());
  ASSERT_EQ(adv.status, 201) << adv.body;
  auto pid = "PACE_" + unique_suffix();
  ASSERT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  json campaign = {{"advertiser_id", adv.json["id"]}, {"campaign_name", "c"},
                   {"product_id", pid},            {"start_date", "2026-01-01"},
                   {"end_date", "2099-01-01"},     {"daily_budget", 1000},
                   {"total_budget", 5000},         {"bids", {{"HOME", 100}}}};
  auto created = s.admin("POST", "/admin/v1/campaigns", campaign.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json["delivery"], "STANDARD");
  auto id = std::to_string(created.json["id"].get<int64_t>());
  EXPECT_EQ(sql_one("SELECT delivery FROM ad_campaigns WHERE id = " + id), "STANDARD");
  EXPECT_EQ(s.admin("GET", "/admin/v1/campaigns/" + id).json["delivery"], "STANDARD");

  campaign["delivery"] = "FAST";
  auto bad = s.admin("POST", "/admin/v1/campaigns", campaign.dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json["error"]["code"], "VALIDATION_FAILED");
  EXPECT_EQ(bad.json["error"]["details"]["field"], "delivery") << bad.body;

  for (auto body : {R"({"delivery":"slow"})", R"({"delivery":5})", R"({})", "[]"}) {
    auto r = s.admin("PUT", "/admin/v1/campaigns/" + id + "/delivery", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED") << r.body;
  }
  EXPECT_EQ(sql_one("SELECT delivery FROM ad_campaigns WHERE id = " + id), "STANDARD");
  auto missing = s.admin("PUT", "/admin/v1/campaigns/999999999/delivery",
                         R"({"delivery":"ACCELERATED"})");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(missing.json["error"]["code"], "REFERENCE_NOT_FOUND");
  auto anonymous = s.call("PUT", "/admin/v1/campaigns/" + id + "/delivery",
                          R"({"delivery":"ACCELERATED"})");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(sql_one("SELECT delivery FROM ad_campaigns WHERE id = " + id), "STANDARD");
  // A deleted campaign keeps its delivery.
  ASSERT_EQ(s.admin("DELETE", "/admin/v1/campaigns/" + id).status, 200);
  auto deleted = s.admin("PUT", "/admin/v1/campaigns/" + id + "/delivery",
                         R"({"delivery":"ACCELERATED"})");
  EXPECT_EQ(deleted.status, 409) << deleted.body;
  EXPECT_EQ(deleted.json["error"]["code"], "REFERENCE_INACTIVE");
  EXPECT_EQ(sql_one("SELECT delivery FROM ad_campaigns WHERE id = " + id), "STANDARD");
  EXPECT_TRUE(s.stop());
}

TEST(Pacing, AdRequestsAreAddedToTheHourlyTrafficCurve) {
  server_process s(std::map<std::string, std::string>{{"pacing.traffic_flush_seconds", "1"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto count = [] {
    return std::stoll(sql_one("SELECT coalesce(sum(requests), 0) FROM ad_traffic_hourly"
                              " WHERE placement = 'PRODUCT_DETAIL'"));
  };
  auto before = count();
  for (int i = 0; i < 7; ++i) {
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", uuid(1000 + i)}, {"session_id", "s"},
                         {"placement", "PRODUCT_DETAIL"}}
                      .dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // A rejected request is not traffic.
  EXPECT_EQ(s.call("POST", "/api/v1/ads/request",
                   json{{"device_id", "not-a-uuid"}, {"placement", "PRODUCT_DETAIL"}}.dump())
              .status,
            400);
  auto added = int64_t{0};
  for (int i = 0; i < 100 && added < 7; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    added = count() - before;
  }
  EXPECT_EQ(added, 7);
  // And the row carries the common fields.
  EXPECT_EQ(sql_one("SELECT count(*) FROM ad_traffic_hourly WHERE placement = 'PRODUCT_DETAIL'"
                    " AND (activated <> 1 OR created_user_id <> 'traffic')"),
            "0");
  EXPECT_TRUE(s.stop());
}
