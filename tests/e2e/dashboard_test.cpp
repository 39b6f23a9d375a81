// Campaign dashboards end to end: exact counts in PostgreSQL after events
// from many connections, who may read what (advertiser keys), the documented
// 400s, alerts, variants, the advertiser dashboard, and SSE that resumes
// with Last-Event-ID across a server restart without loss or repetition.
#include "tests/support/server_process.hpp"
#include "tests/support/sse_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("d000", i);
}

std::map<std::string, std::string> fast_flags() {
  return {{"dashboards.flush_ms", "200"},
          {"dashboards.alert_check_seconds", "1"},
          {"http.max_connections_per_address", "1000"}};
}

struct served_ad {
  std::string token;
  int device = 0;
};

/// One ad of `campaign` for device `i` (exp_key/exp_var when given).
served_ad serve(const server_process& s, int device, const std::string& term, int64_t campaign,
                const std::string& exp_key = "", const std::string& exp_var = "") {
  json body = {{"device_id", uuid(device)}, {"session_id", "sess-" + std::to_string(device)},
               {"placement", "SEARCH"}, {"search_term", term}, {"max_ads", 10}};
  if (!exp_key.empty()) {
    body["exp_key"] = exp_key;
    body["exp_var"] = exp_var;
  }
  auto r = s.call("POST", "/api/v1/ads/request", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  for (auto& ad : r.json["ads"])
    if (ad["campaign_id"] == campaign)
      return {ad["token"], device};
  ADD_FAILURE() << "campaign " << campaign << " not served: " << r.body;
  return {};
}

http_result impression(const server_process& s, const served_ad& ad) {
  return s.call("POST", "/api/v1/ads/impression",
                json{{"token", ad.token}, {"device_id", uuid(ad.device)},
                     {"session_id", "sess-" + std::to_string(ad.device)}}
                  .dump());
}

http_result click(const server_process& s, const served_ad& ad) {
  return s.call("POST", "/api/v1/ads/click",
                json{{"token", ad.token}, {"device_id", uuid(ad.device)},
                     {"session_id", "sess-" + std::to_string(ad.device)}}
                  .dump());
}

int64_t stored(int64_t campaign, const std::string& unit, const std::string& metric) {
  auto v = sql_one("SELECT coalesce(sum(metric_value), 0) FROM campaign_dashboard_metrics"
                   " WHERE campaign_id = "
                   + std::to_string(campaign) + " AND time_window_unit = '" + unit
                   + "' AND metric_type = '" + metric + "'");
  return v.empty() ? -1 : std::stoll(v);
}

/// Waits (up to 10 s) until `metric` of the DAY windows reaches `want`.
int64_t await_stored(int64_t campaign, const std::string& metric, int64_t want) {
  int64_t got = -1;
  for (int i = 0; i < 100; ++i) {
    got = stored(campaign, "DAY", metric);
    if (got >= want)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return got;
}

std::string api_key(const server_process& s, int64_t advertiser) {
  auto r = s.admin("POST", "/admin/v1/advertisers/" + std::to_string(advertiser) + "/api-keys");
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("api_key", "");
}

std::string target(int64_t campaign, const std::string& rest = "") {
  return "/api/v1/campaigns/" + std::to_string(campaign) + "/dashboard" + rest;
}

}  // namespace

TEST(Dashboards, CountsAreExactAfterConcurrentEventsFromManyConnections) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dash" + unique_suffix();
  auto c = active_search_campaign(s, term);
  constexpr int devices = 120;
  std::vector<served_ad> ads;
  for (int i = 0; i < devices; ++i)
    ads.push_back(serve(s, 1000 + i, term, c.campaign));
  // Every device sees its ad; every second one clicks, every fourth twice
  // (the second click is a duplicate: counted as a click, not charged).
  std::atomic<int> failures{0}, charged{0};
  std::atomic<int64_t> spend{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < devices; i += 12) {
        if (impression(s, ads[i]).status != 200)
          ++failures;
        if (i % 2 == 0) {
          auto r = click(s, ads[i]);
          if (r.status != 200)
            ++failures;
          else if (r.json["charged"] == true) {
            ++charged;
            spend += r.json["amount"].get<int64_t>();
          }
        }
        if (i % 4 == 0 && click(s, ads[i]).status != 200)
          ++failures;
      }
    });
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(failures.load(), 0);
  int64_t impressions = devices, clicks = devices / 2 + devices / 4;
  ASSERT_EQ(charged.load(), devices / 2);
  EXPECT_EQ(await_stored(c.campaign, "EVENT_COUNT", impressions + clicks), impressions + clicks);
  for (auto unit : {"MINUTE", "HOUR", "DAY"}) {
    SCOPED_TRACE(unit);
    EXPECT_EQ(stored(c.campaign, unit, "IMPRESSIONS"), impressions);
    EXPECT_EQ(stored(c.campaign, unit, "CLICKS"), clicks);
    EXPECT_EQ(stored(c.campaign, unit, "CHARGED_CLICKS"), devices / 2);
    EXPECT_EQ(stored(c.campaign, unit, "SPEND"), spend.load());
    EXPECT_EQ(stored(c.campaign, unit, "TOTAL_USER_COUNT"), impressions + clicks);
  }
  // One user per device in the day (a minute boundary may split the rest).
  EXPECT_EQ(stored(c.campaign, "DAY", "UNIQUE_USER_COUNT"), devices);
  // Spend on the dashboard is the money the ledger charged.
  EXPECT_EQ(std::to_string(spend.load()),
            sql_one("SELECT coalesce(sum(spent), 0) FROM ad_campaign_daily_spend WHERE campaign_id = "
                    + std::to_string(c.campaign)));
  auto summary = s.admin("GET", target(c.campaign, "/summary"));
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.json["success"], true);
  EXPECT_EQ(summary.json["data"]["totalEvents"], impressions + clicks) << summary.body;
  EXPECT_EQ(summary.json["data"]["eventsLast24Hours"], impressions + clicks);
  EXPECT_EQ(summary.json["data"]["spend"], spend.load());
  auto day = s.admin("GET", target(c.campaign, "?timeWindowUnit=DAY"));
  ASSERT_EQ(day.status, 200) << day.body;
  ASSERT_EQ(day.json["data"]["windows"].size(), 1u) << day.body;
  auto& w = day.json["data"]["windows"][0];
  EXPECT_EQ(w["impressions"], impressions);
  EXPECT_EQ(w["clicks"], clicks);
  EXPECT_DOUBLE_EQ(w["ctr"].get<double>(), static_cast<double>(clicks) / impressions);
  // WEEK and MONTH roll up the DAY rows.
  for (auto unit : {"WEEK", "MONTH"}) {
    auto r = s.admin("GET", target(c.campaign, std::string("?timeWindowUnit=") + unit));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json["data"]["windows"].size(), 1u) << r.body;
    EXPECT_EQ(r.json["data"]["windows"][0]["impressions"], impressions) << unit;
    EXPECT_EQ(r.json["data"]["windows"][0]["timeWindowUnit"], unit);
  }
}

TEST(Dashboards, AdvertiserKeysReadTheirOwnDataOnly) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dashkey" + unique_suffix();
  auto mine = active_search_campaign(s, term);
  auto theirs = active_search_campaign(s, term);
  auto key = api_key(s, mine.advertiser);
  ASSERT_EQ(key.rfind("ak_", 0), 0u);
  // Stored hashed: the key itself is nowhere in the table.
  EXPECT_EQ(sql_one("SELECT count(*) FROM advertiser_api_keys WHERE key_hash = '" + key + "'"
                    " OR key_prefix = '" + key + "'"),
            "0");
  auto as_key = [&](const std::string& method, const std::string& path, const std::string& bearer) {
    return http_call(s.port(), method, path, "", bearer);
  };
  auto own = std::to_string(mine.advertiser), other = std::to_string(theirs.advertiser);
  for (auto path : {target(mine.campaign), target(mine.campaign, "/summary"),
                    "/admin/v1/advertisers/" + own + "/balance",
                    "/admin/v1/advertisers/" + own + "/dashboard",
                    "/admin/v1/campaigns/" + std::to_string(mine.campaign),
                    "/admin/v1/campaigns/" + std::to_string(mine.campaign) + "/budget",
                    std::string("/api/v1/me")}) {
    auto r = as_key("GET", path, key);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
  }
  EXPECT_EQ(as_key("GET", "/api/v1/me", key).json["advertiser_id"], mine.advertiser);
  for (auto path : {target(theirs.campaign), target(theirs.campaign, "/summary"),
                    "/admin/v1/advertisers/" + other + "/balance",
                    "/admin/v1/advertisers/" + other + "/dashboard",
                    "/admin/v1/campaigns/" + std::to_string(theirs.campaign),
                    "/admin/v1/campaigns/" + std::to_string(theirs.campaign) + "/budget"}) {
    auto r = as_key("GET", path, key);
    EXPECT_EQ(r.status, 403) << path << " " << r.body;
    EXPECT_EQ(r.json["error"]["code"], "FORBIDDEN") << path;
  }
  // Campaigns that do not exist answer like foreign ones: a key learns
  // nothing about campaigns that are not its own.
  auto missing = as_key("GET", target(999999999), key);
  EXPECT_EQ(missing.status, 403) << missing.body;
  // Admin-only routes: writes and other listings.
  auto write = http_call(s.port(), "PUT", "/admin/v1/advertisers/" + own + "/balance",
                         R"({"action":"charge","amount":1000})", key);
  EXPECT_EQ(write.status, 403) << write.body;
  EXPECT_EQ(as_key("GET", "/admin/v1/experiments/mappings", key).status, 403);
  EXPECT_EQ(as_key("POST", "/admin/v1/advertisers/" + own + "/api-keys", key).status, 403);
  // Nothing changed by the refused write.
  EXPECT_EQ(s.admin("GET", "/admin/v1/advertisers/" + own + "/balance").json["balance"],
            campaign_setup{}.balance);
  // Bad or missing credentials: 401.
  auto forged = "ak_" + std::string(48, '0');
  EXPECT_EQ(as_key("GET", target(mine.campaign), forged).status, 401);
  EXPECT_EQ(as_key("GET", target(mine.campaign), "").status, 401);
  EXPECT_EQ(as_key("GET", target(mine.campaign), "not-a-key").status, 401);
  // Revoked: 401 at once.
  auto keys = s.admin("GET", "/admin/v1/advertisers/" + own + "/api-keys");
  ASSERT_EQ(keys.status, 200) << keys.body;
  ASSERT_EQ(keys.json["keys"].size(), 1u);
  EXPECT_FALSE(keys.json["keys"][0].contains("api_key"));
  auto key_id = keys.json["keys"][0]["key_id"].get<int64_t>();
  auto revoked = s.admin("DELETE", "/admin/v1/advertisers/" + own + "/api-keys/"
                                     + std::to_string(key_id));
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(as_key("GET", target(mine.campaign), key).status, 401);
  EXPECT_EQ(s.admin("DELETE", "/admin/v1/advertisers/" + own + "/api-keys/"
                                + std::to_string(key_id))
              .status,
            404);
}

TEST(Dashboards, BadParametersAreRefusedWithTheField) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto c = active_search_campaign(s, "dashbad" + unique_suffix());
  struct bad {
    std::string query;
    std::string field;
  };
  for (auto& b : std::vector<bad>{
         {"?startTime=2026-11-25T00:00:00%2B09:00", "endTime"},
         {"?endTime=2026-11-25T00:00:00%2B09:00", "startTime"},
         {"?startTime=2026-11-26T00:00:00Z&endTime=2026-11-25T00:00:00Z", "startTime"},
         {"?startTime=2026-11-25T00:00:00Z&endTime=2026-11-25T00:00:00Z", "startTime"},
         {"?startTime=yesterday&endTime=2026-11-25T00:00:00Z", "startTime"},
         {"?startTime=2026-02-30T00:00:00Z&endTime=2026-03-25T00:00:00Z", "startTime"},
         {"?timeWindowUnit=YEAR", "timeWindowUnit"},
         {"?timeWindowUnit=hour", "timeWindowUnit"},
         {"/stream?durationSeconds=0", "durationSeconds"},
         {"/stream?durationSeconds=86401", "durationSeconds"},
         {"/stream?durationSeconds=ten", "durationSeconds"},
         {"/variants", "exp_key"},
       }) {
    auto r = s.admin("GET", target(c.campaign, b.query));
    EXPECT_EQ(r.status, 400) << b.query << " " << r.body;
    EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED") << b.query;
    EXPECT_EQ(r.json["error"]["details"]["field"], b.field) << b.query << " " << r.body;
  }
  EXPECT_EQ(s.admin("GET", "/api/v1/campaigns/abc/dashboard").status, 400);
  EXPECT_EQ(s.admin("GET", "/api/v1/campaigns/999999999/dashboard").status, 404);
  auto alerts = s.admin("PUT", "/admin/v1/campaigns/" + std::to_string(c.campaign) + "/alerts",
                        R"({"ctr_below": 2})");
  EXPECT_EQ(alerts.status, 400) << alerts.body;
  EXPECT_EQ(alerts.json["error"]["details"]["field"], "ctr_below");
  auto range = s.admin("GET", "/admin/v1/advertisers/" + std::to_string(c.advertiser)
                                + "/dashboard?from=2026-11-30&to=2026-11-01");
  EXPECT_EQ(range.status, 400) << range.body;
  // A range in the seed's local form (no offset) is the business zone's.
  auto ok = s.admin("GET", target(c.campaign, "?startTime=2026-11-01T00:00:00"
                                              "&endTime=2026-12-01T00:00:00&timeWindowUnit=DAY"));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(Dashboards, AlertsFireOnceAndReachTheDashboardAndTheStream) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dashalert" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto put = s.admin("PUT", "/admin/v1/campaigns/" + std::to_string(c.campaign) + "/alerts",
                     R"({"spend_per_hour_above": 15})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json["spend_per_hour_above"], 15);
  sse_client stream(s.port(), target(c.campaign, "/stream?durationSeconds=30&access_token=")
                                + s.admin_token());
  ASSERT_EQ(stream.status(), 200) << stream.headers();
  EXPECT_NE(stream.headers().find("text/event-stream"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed
  int64_t spend = 0;
  for (int i = 0; i < 3; ++i) {  // alone in its auction, a click pays the reserve price
    auto ad = serve(s, 2000 + i, term, c.campaign);
    auto r = click(s, ad);
    ASSERT_EQ(r.json["charged"], true) << r.body;
    spend += r.json["amount"].get<int64_t>();
  }
  ASSERT_GT(spend, 15);
  int alerts_seen = 0, clicks_seen = 0;
  for (int i = 0; i < 40 && alerts_seen == 0; ++i) {
    auto e = stream.next(500);
    if (!e)
      continue;
    if (e->event == "campaign-alert") {
      ++alerts_seen;
      auto data = json::parse(e->data);
      EXPECT_EQ(data["alertType"], "SPEND_PER_HOUR");
      EXPECT_EQ(data["campaignId"], c.campaign);
    } else if (e->event == "campaign-event") {
      ++clicks_seen;
    }
  }
  EXPECT_EQ(clicks_seen, 3);
  EXPECT_EQ(alerts_seen, 1);
  // Judged every second: still one row for this hour.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(sql_one("SELECT count(*) FROM campaign_alerts WHERE campaign_id = "
                    + std::to_string(c.campaign)),
            "1");
  auto dash = s.admin("GET", target(c.campaign));
  ASSERT_EQ(dash.status, 200);
  ASSERT_EQ(dash.json["data"]["alerts"].size(), 1u) << dash.body;
  EXPECT_EQ(dash.json["data"]["alerts"][0]["alertType"], "SPEND_PER_HOUR");
}

TEST(Dashboards, ClickAnomalyComparesWithTheSameHourOfThePastWeek) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dashanomaly" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto id = std::to_string(c.campaign);
  // A quiet history: 1 click in this hour on each of the last 7 days.
  sql_one("INSERT INTO campaign_dashboard_metrics (campaign_id, metric_type, metric_value,"
          " time_window_start, time_window_end, time_window_unit)"
          " SELECT " + id + ", 'CLICKS', 1, h - d * interval '1 day',"
          " h - d * interval '1 day' + interval '1 hour', 'HOUR'"
          " FROM (SELECT date_trunc('hour', now()) h) x, generate_series(1, 7) d RETURNING 1");
  ASSERT_EQ(s.admin("PUT", "/admin/v1/campaigns/" + id + "/alerts",
                    R"({"anomaly_detection": true})")
              .status,
            200);
  for (int i = 0; i < 6; ++i) {  // 6 > 1 + 3 x max(1, sigma 0)
    auto ad = serve(s, 3000 + i, term, c.campaign);
    ASSERT_EQ(click(s, ad).status, 200);
  }
  std::string fired;
  for (int i = 0; i < 60 && fired != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fired = sql_one("SELECT count(*) FROM campaign_alerts WHERE alert_type = 'CLICK_ANOMALY'"
                    " AND campaign_id = " + id);
  }
  EXPECT_EQ(fired, "1");
}

TEST(Dashboards, VariantsAndTheAdvertiserDashboardAddUp) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dashvar" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto exp_key = "price" + unique_suffix();
  int64_t spend = 0;
  for (int i = 0; i < 4; ++i) {
    auto ad = serve(s, 4000 + i, term, c.campaign, exp_key, i < 3 ? "A" : "B");
    ASSERT_EQ(impression(s, ad).status, 200);
    if (i < 2) {
      auto r = click(s, ad);
      ASSERT_EQ(r.json["charged"], true) << r.body;
      spend += r.json["amount"].get<int64_t>();
    }
  }
  ASSERT_GT(spend, 0);
  ASSERT_EQ(await_stored(c.campaign, "EVENT_COUNT", 6), 6);
  auto v = s.admin("GET", target(c.campaign, "/variants?exp_key=" + exp_key));
  ASSERT_EQ(v.status, 200) << v.body;
  auto& vars = v.json["data"]["variants"];
  ASSERT_EQ(vars.size(), 2u) << v.body;
  EXPECT_EQ(vars[0]["expVar"], "A");
  EXPECT_EQ(vars[0]["impressions"], 3);
  EXPECT_EQ(vars[0]["clicks"], 2);
  EXPECT_EQ(vars[0]["spend"], spend);
  EXPECT_EQ(vars[1]["expVar"], "B");
  EXPECT_EQ(vars[1]["impressions"], 1);
  EXPECT_EQ(vars[1]["clicks"], 0);
  auto adv = s.admin("GET", "/admin/v1/advertisers/" + std::to_string(c.advertiser) + "/dashboard");
  ASSERT_EQ(adv.status, 200) << adv.body;
  EXPECT_EQ(adv.json["balance"], campaign_setup{}.balance - spend);
  EXPECT_EQ(adv.json["spent_today"], spend);
  ASSERT_EQ(adv.json["campaigns"].size(), 1u);
  EXPECT_EQ(adv.json["campaigns"][0]["today"]["impressions"], 4);
  EXPECT_EQ(adv.json["campaigns"][0]["today"]["spend"], spend);
  EXPECT_EQ(adv.json["campaigns"][0]["spent_today"], spend);
  EXPECT_EQ(adv.json["totals"]["period"]["clicks"], 2);
}

TEST(Dashboards, StreamsResumeAfterLastEventIdAcrossARestartWithoutLossOrRepeats) {
  auto flags = fast_flags();
  flags["dashboards.max_streams_per_key"] = "2";
  auto term = "dashsse" + unique_suffix();
  test_campaign c;
  std::vector<std::string> seen_ids;
  std::string last_id;
  {
    server_process s(flags);
    ASSERT_TRUE(s.start()) << s.output();
    c = active_search_campaign(s, term);
    sse_client stream(s.port(), target(c.campaign, "/stream?durationSeconds=60"),
                      {{"Authorization", "Bearer " + s.admin_token()}});
    ASSERT_EQ(stream.status(), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // The cap per credential: a third concurrent stream is refused.
    sse_client second(s.port(), target(c.campaign, "/stream?durationSeconds=60"),
                      {{"Authorization", "Bearer " + s.admin_token()}});
    ASSERT_EQ(second.status(), 200);
    auto third = s.admin("GET", target(c.campaign, "/stream?durationSeconds=60"));
    EXPECT_EQ(third.status, 429) << third.body;
    EXPECT_EQ(third.json["error"]["code"], "RATE_LIMITED");
    second.close();
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(impression(s, serve(s, 5000 + i, term, c.campaign)).status, 200);
    while (seen_ids.size() < 3) {
      auto e = stream.next(5000);
      ASSERT_TRUE(e.has_value()) << "only " << seen_ids.size() << " events";
      ASSERT_EQ(e->event, "campaign-event");
      EXPECT_EQ(json::parse(e->data)["eventName"], "IMPRESSION");
      seen_ids.push_back(e->id);
    }
    last_id = seen_ids.back();
    stream.close();
    // Two events while no client listens, then a restart.
    for (int i = 3; i < 5; ++i)
      ASSERT_EQ(impression(s, serve(s, 5000 + i, term, c.campaign)).status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_TRUE(s.stop());
  }
  server_process s(flags);
  ASSERT_TRUE(s.start()) << s.output();
  ASSERT_EQ(impression(s, serve(s, 5005, term, c.campaign)).status, 200);
  sse_client resumed(s.port(), target(c.campaign, "/stream?durationSeconds=3&access_token=")
                                 + s.admin_token(),
                     {{"Last-Event-ID", last_id}});
  ASSERT_EQ(resumed.status(), 200);
  std::vector<std::string> after;
  bool ended = false;
  while (auto e = resumed.next(5000)) {
    if (e->event == "stream-end") {
      ended = true;
      break;
    }
    after.push_back(e->id);
  }
  EXPECT_TRUE(ended);
  ASSERT_EQ(after.size(), 3u) << "events after " << last_id;
  std::set<std::string> all(seen_ids.begin(), seen_ids.end());
  for (auto& id : after)
    EXPECT_TRUE(all.insert(id).second) << id << " delivered twice";
  EXPECT_EQ(after, (std::vector<std::string>{after[0], after[1], after[2]}));
  EXPECT_LT(last_id, after[0]);
}

TEST(Dashboards, AnUnreadableLastEventIdDoesNotStallOtherStreams) {
  server_process s(fast_flags());
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "dashbadid" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto auth = std::vector<std::pair<std::string, std::string>>{
    {"Authorization", "Bearer " + s.admin_token()}};
  // Beyond 64 bits: Redis would refuse it; the stream starts from now.
  auto bad_headers = auth;
  bad_headers.push_back({"Last-Event-ID", "99999999999999999999999-0"});
  sse_client bad(s.port(), target(c.campaign, "/stream?durationSeconds=20"), bad_headers);
  sse_client good(s.port(), target(c.campaign, "/stream?durationSeconds=20"), auth);
  ASSERT_EQ(bad.status(), 200);
  ASSERT_EQ(good.status(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(impression(s, serve(s, 6000, term, c.campaign)).status, 200);
  auto got = good.next(5000);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->event, "campaign-event");
  auto also = bad.next(5000);
  ASSERT_TRUE(also.has_value());
  EXPECT_EQ(also->id, got->id);
}

TEST(Dashboards, AnOrderlyStopWritesTheCountsItHoldsWithoutWaitingForTheFlushInterval) {
  auto flags = fast_flags();
  flags["dashboards.flush_ms"] = "60000";  // far beyond the stop's 5 s wait
  auto term = "dashstop" + unique_suffix();
  server_process s(flags);
  ASSERT_TRUE(s.start()) << s.output();
  auto c = active_search_campaign(s, term);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(impression(s, serve(s, 6000 + i, term, c.campaign)).status, 200);
  // A window's first write comes a flush interval after its first event.
  EXPECT_EQ(stored(c.campaign, "DAY", "IMPRESSIONS"), 0);
  ASSERT_TRUE(s.stop());
  EXPECT_EQ(s.output().find("did not finish writing"), std::string::npos) << s.output();
  EXPECT_EQ(stored(c.campaign, "DAY", "IMPRESSIONS"), 3);
}
