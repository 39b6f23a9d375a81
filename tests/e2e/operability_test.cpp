// The operator's view of a live server: the realtime figures move with real
// traffic, inspection shows what the actors hold, reconciliation names a
// Redis key changed behind the server's back, the integrity check finds a
// planted orphan, and every answer carries X-Request-Id.
#include "storage/redis_connection.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <thread>

#include <unistd.h>

using namespace adserver::testing;
using nlohmann::json;

namespace {

std::string uuid(int i) {
  return test_uuid("f000", i);
}

/// One ad request for `term` and a click on its first ad; the click's body.
json serve_and_click(const server_process& s, const std::string& term, int device) {
  auto r = s.call("POST", "/api/v1/ads/request",
                  json{{"device_id", uuid(device)}, {"session_id", "s"}, {"placement", "SEARCH"},
                       {"search_term", term}, {"max_ads", 1}}
                    .dump());
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.json["ads"].empty())
    return json{};
  auto click = s.call("POST", "/api/v1/ads/click",
                      json{{"token", r.json["ads"][0]["token"]}, {"device_id", uuid(device)},
                           {"session_id", "s"}}
                        .dump());
  EXPECT_EQ(click.status, 200) << click.body;
  return click.json;
}

std::string redis(const std::vector<std::string>& command) {
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  EXPECT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  EXPECT_TRUE(rc.run(command, rep, err)) << err;
  return rep.text;
}

}  // namespace

TEST(Operability, RealtimeFiguresFollowTrafficWithinTheMinute) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "rt" + unique_suffix();
  auto c = active_search_campaign(s, term, {1'000'000, 150, 100'000, 10'000'000});
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(serve_and_click(s, term, i).value("charged", false), true);
  // A request nothing matches: the match rate falls below 1.
  EXPECT_EQ(s.call("POST", "/api/v1/ads/request",
                   json{{"device_id", uuid(99)}, {"session_id", "s"}, {"placement", "SEARCH"},
                        {"search_term", "nothing" + unique_suffix()}}
                     .dump())
              .status,
            200);
  auto started = std::chrono::steady_clock::now();
  auto r = s.admin("GET", "/admin/v1/monitoring/realtime");
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  (void)took;  // seed 000 asks under 100 ms; timing belongs in benchmarks
  auto& j = r.json;
  for (auto field : {"node", "version", "build", "started_at", "generated_at", "uptime_seconds",
                     "window_seconds", "requests", "routes", "business", "totals", "actors", "io",
                     "integrity"})
    EXPECT_TRUE(j.contains(field)) << field << " missing: " << r.body;
  EXPECT_EQ(j["totals"]["clicks_charged"], 5) << r.body;
  EXPECT_EQ(j["totals"]["money_charged"], 5 * 10) << r.body;  // alone: the reserve price
  EXPECT_EQ(j["totals"]["ad_requests"], 6);
  EXPECT_EQ(j["totals"]["ad_requests_matched"], 5);
  EXPECT_NEAR(j["business"]["ad_match_rate"].get<double>(), 5.0 / 6.0, 1e-9);
  EXPECT_EQ(j["business"]["balance_deduction_success_rate"], 1.0);
  EXPECT_GT(j["business"]["budget_burn_rate"].get<double>(), 0.0);
  // New campaigns are led by the category baseline.
  EXPECT_EQ(j["business"]["baseline_application_rate"], 1.0);
  bool seen = false;
  for (auto& route : j["routes"])
    if (route["route"] == "/api/v1/ads/request" && route["method"] == "POST") {
      seen = true;
      EXPECT_EQ(route["count"], 6);
      EXPECT_GT(route["p99_ms"].get<double>(), 0.0);
      EXPECT_GE(route["p99_ms"].get<double>(), route["p50_ms"].get<double>());
    }
  EXPECT_TRUE(seen) << r.body;
  bool ledgers = false;
  for (auto& a : j["actors"])
    if (a["kind"] == "advertiser-ledger") {
      ledgers = true;
      EXPECT_GE(a["count"].get<int64_t>(), 1);
    }
  EXPECT_TRUE(ledgers);
  EXPECT_EQ(j["io"]["postgres_up"], true);
  EXPECT_GE(j["io"]["pg_commits"].get<int64_t>(), 5);
  // The same in /metrics.
  auto m = s.admin("GET", "/metrics");
  EXPECT_NE(m.body.find("adserver_clicks_charged_total 5\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("adserver_money_charged_won_total 50\n"), std::string::npos);
  EXPECT_NE(m.body.find("adserver_actors{kind=\"advertiser-ledger\"} 1\n"), std::string::npos);
  (void)c;
}

TEST(Operability, InspectionShowsLedgerCampaignAuctionAndActors) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "in" + unique_suffix();
  auto c = active_search_campaign(s, term, {500'000, 200, 100'000, 10'000'000});
  EXPECT_EQ(serve_and_click(s, term, 10).value("charged", false), true);
  auto ledger = s.admin("GET", "/admin/v1/inspect/ledgers/" + std::to_string(c.advertiser));
  ASSERT_EQ(ledger.status, 200) << ledger.body;
  EXPECT_EQ(ledger.json["status"]["kind"], "advertiser-ledger");
  EXPECT_EQ(ledger.json["status"]["figures"]["clicks_charged"], 1);
  EXPECT_EQ(ledger.json["advertiser"]["balance"], 500'000 - 10);
  ASSERT_EQ(ledger.json["campaigns"].size(), 1u);
  EXPECT_EQ(ledger.json["campaigns"][0]["spent_today"], 10);
  auto campaign = s.admin("GET", "/admin/v1/inspect/campaigns/" + std::to_string(c.campaign));
  ASSERT_EQ(campaign.status, 200) << campaign.body;
  EXPECT_EQ(campaign.json["status"]["kind"], "campaign");
  EXPECT_EQ(campaign.json["campaign"]["id"], c.campaign);
  auto auction = s.admin("GET", "/admin/v1/inspect/auctions/SEARCH?term=" + term);
  ASSERT_EQ(auction.status, 200) << auction.body;
  ASSERT_EQ(auction.json["candidates"].size(), 1u) << auction.body;
  auto& top = auction.json["candidates"][0];
  EXPECT_EQ(top["campaign_id"], c.campaign);
  EXPECT_EQ(top["rank"], 1);
  EXPECT_EQ(top["bid"], 200);
  EXPECT_EQ(top["price"], 10);
  EXPECT_GT(top["pctr"].get<double>(), 0.0);
  EXPECT_NEAR(top["score"].get<double>(), 200 * top["pctr"].get<double>(), 1e-9);
  EXPECT_EQ(s.admin("GET", "/admin/v1/inspect/auctions/NOWHERE").status, 400);
  EXPECT_EQ(s.admin("GET", "/admin/v1/inspect/auctions/SEARCH").json["error"]["details"]["field"],
            "search_term");
  auto actors = s.admin("GET", "/admin/v1/inspect/actors");
  ASSERT_EQ(actors.status, 200);
  int64_t auctions = 0;
  for (auto& a : actors.json["actors"])
    if (a["kind"] == "auction")
      auctions = a["count"];
  EXPECT_GE(auctions, 1);
  // Every single actor answers the common status request.
  std::map<std::string, json> services;
  for (auto& svc : actors.json["services"])
    services[svc["name"].get<std::string>()] = svc;
  for (auto name : {"directory", "pg-writer", "pg-reader", "redis-writer", "kafka-producer",
                    "traffic", "integrity", "product-catalog", "session-experiment 0"}) {
    ASSERT_EQ(services.count(name), 1u) << name << " " << actors.body;
    EXPECT_FALSE(services[name].contains("error")) << services[name].dump();
    EXPECT_TRUE(services[name]["figures"].is_object()) << services[name].dump();
  }
  EXPECT_EQ(services["pg-writer"]["kind"], "pg-writer") << services["pg-writer"].dump();
  EXPECT_EQ(s.admin("GET", "/admin/v1/inspect/ledgers/999999999").status, 404);
  EXPECT_EQ(s.admin("GET", "/admin/v1/inspect/sessions/" + unique_suffix()).status, 404);
  EXPECT_EQ(s.call("GET", "/admin/v1/inspect/actors").status, 401);
}

TEST(Operability, ReconcileNamesARedisKeyChangedByHand) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "rc" + unique_suffix();
  auto c = active_search_campaign(s, term, {300'000, 100, 100'000, 10'000'000});
  EXPECT_EQ(serve_and_click(s, term, 20).value("charged", false), true);
  auto target = "/admin/v1/inspect/reconcile?advertiser_id=" + std::to_string(c.advertiser);
  auto key = "balance:" + std::to_string(c.advertiser);
  // The mirror is written after the commit: wait until it agrees.
  json r;
  for (int i = 0; i < 50; ++i) {
    r = s.admin("GET", target).json;
    if (r.value("consistent", false))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(r["consistent"], true) << r.dump();
  EXPECT_EQ(r["checked"], 1);
  redis({"SET", key, "123"});
  auto after = s.admin("GET", target);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json["consistent"], false) << after.body;
  ASSERT_EQ(after.json["differences"].size(), 1u) << after.body;
  auto& d = after.json["differences"][0];
  EXPECT_EQ(d["key"], key);
  EXPECT_EQ(d["redis"], "123");
  EXPECT_EQ(d["postgres"], 300'000 - 10);
  EXPECT_EQ(d["memory"], 300'000 - 10);
  EXPECT_EQ(d["history"], 300'000 - 10);
  // The whole-node run finds it too, in whichever page of 10,000 advertisers
  // holds it (a development database collects many).
  bool named = false;
  std::string page = "/admin/v1/inspect/reconcile";
  for (int pages = 0; pages < 1000 && !named && !page.empty(); ++pages) {
    auto all = s.admin("GET", page);
    ASSERT_EQ(all.status, 200) << all.body;
    for (auto& x : all.json["differences"])
      named = named || x["key"] == key;
    page = all.json["next_after_id"].is_number_integer()
             ? "/admin/v1/inspect/reconcile?after_id=" + all.json["next_after_id"].dump()
             : "";
  }
  EXPECT_TRUE(named);
  redis({"SET", key, std::to_string(300'000 - 10)});
  EXPECT_EQ(s.admin("GET", target).json["consistent"], true);
  EXPECT_EQ(s.admin("GET", "/admin/v1/inspect/reconcile?advertiser_id=x").status, 400);
}

TEST(Operability, IntegrityCheckFindsACampaignOfASoftDeletedAdvertiser) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "ig" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto count_of = [](const json& report, const std::string& check) {
    for (auto& x : report["checks"])
      if (x["name"] == check)
        return x;
    return json{};
  };
  auto before = s.admin("POST", "/admin/v1/integrity/check");
  ASSERT_EQ(before.status, 200) << before.body;
  // Held in a local: a range-for over a member of a temporary dangles.
  auto before_check = count_of(before.json, "campaigns_of_inactive_advertiser");
  for (auto& x : before_check["samples"])
    EXPECT_NE(x["id"], c.campaign);
  // Behind the server's back, as a faulty batch job would.
  sql_one("UPDATE ad_advertisers SET activated = 0 WHERE id = " + std::to_string(c.advertiser));
  auto after = s.admin("POST", "/admin/v1/integrity/check");
  ASSERT_EQ(after.status, 200) << after.body;
  auto check = count_of(after.json, "campaigns_of_inactive_advertiser");
  EXPECT_EQ(check["count"].get<int64_t>(),
            count_of(before.json, "campaigns_of_inactive_advertiser")["count"].get<int64_t>() + 1);
  EXPECT_GE(after.json["findings_total"].get<int64_t>(), 1);
  // Samples are the first ten by id; this campaign is the newest, so look
  // for it with a query of its own when it is not among them.
  bool named = false;
  for (auto& x : check["samples"])
    named = named || x["id"] == c.campaign;
  if (!named)
    EXPECT_EQ(sql_one("SELECT count(*) FROM ad_campaigns c JOIN ad_advertisers a ON a.id = "
                      "c.advertiser_id WHERE c.id = "
                      + std::to_string(c.campaign) + " AND a.activated = 0"),
              "1");
  auto last = s.admin("GET", "/admin/v1/integrity");
  ASSERT_EQ(last.status, 200);
  EXPECT_EQ(last.json["findings_total"], after.json["findings_total"]);
  auto m = s.admin("GET", "/metrics");
  EXPECT_NE(m.body.find("adserver_integrity_findings{check=\"campaigns_of_inactive_advertiser\"} "
                        + std::to_string(check["count"].get<int64_t>())),
            std::string::npos);
  // Leave the shared database as consistent as it was.
  sql_one("UPDATE ad_advertisers SET activated = 1 WHERE id = " + std::to_string(c.advertiser));
}

TEST(Operability, EveryAnswerCarriesARequestId) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto mine = s.admin("GET", "/healthz", "", {{"X-Request-Id", "trace-42"}});
  EXPECT_EQ(mine.header("X-Request-Id"), "trace-42");
  auto fresh = s.call("GET", "/no/such/thing");
  EXPECT_EQ(fresh.status, 404);
  EXPECT_EQ(fresh.header("X-Request-Id").size(), 32u);
  auto refused = s.admin("GET", "/admin/v1/inspect/ledgers/abc");
  EXPECT_EQ(refused.status, 400);
  EXPECT_FALSE(refused.header("X-Request-Id").empty());
}

TEST(Operability, InspectionShowsASessionsExperimentCodes) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "se" + unique_suffix();
  auto c = active_search_campaign(s, term);
  auto product =
    s.admin("GET", "/admin/v1/campaigns/" + std::to_string(c.campaign)).json["product_id"];
  auto key = "price_" + unique_suffix();
  ASSERT_EQ(s.admin("POST", "/admin/v1/experiments/mappings",
                    json{{"exp_key", key}, {"exp_var", "B"}, {"original_product_id", product},
                         {"experiment_product_id", product.get<std::string>() + "_SALE"},
                         {"start_date", "2026-01-01"}, {"end_date", "2099-12-31"}}
                      .dump())
              .status,
            201);
  auto session = "sess-" + unique_suffix();
  auto r = s.call("POST", "/api/v1/ads/request",
                  json{{"device_id", uuid(30)}, {"session_id", session}, {"placement", "SEARCH"},
                       {"search_term", term}, {"exp_key", key}, {"exp_var", "B"}}
                    .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["ads"].size(), 1u);
  ASSERT_EQ(r.json["ads"][0]["experiment_applied"], true);
  auto v = s.admin("GET", "/admin/v1/inspect/sessions/" + session);
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json["session_id"], session);
  EXPECT_EQ(v.json["exp_key"], key);
  ASSERT_EQ(v.json["codes"].size(), 1u);
  EXPECT_EQ(v.json["codes"][0]["original"], product);
  EXPECT_EQ(v.json["codes"][0]["experiment"], product.get<std::string>() + "_SALE");
  auto rt = s.admin("GET", "/admin/v1/monitoring/realtime");
  EXPECT_EQ(rt.json["business"]["experiment_participation_rate"], 1.0) << rt.body;
}

TEST(Operability, AnIntegrityRunLongerThanTheDeadlineAnswers202AndFinishes) {
  server_process s{{{"http.admin_deadline_ms", "1000"}}};
  ASSERT_TRUE(s.start()) << s.output();
  // Another session holds a lock one check needs: the run waits on it.
  PGconn* holder = PQconnectdb(test_pg_conninfo().c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK);
  PQclear(PQexec(holder, "BEGIN"));
  PQclear(PQexec(holder, "LOCK TABLE ad_campaign_spend IN ACCESS EXCLUSIVE MODE"));
  auto posted = s.admin("POST", "/admin/v1/integrity/check");
  EXPECT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(posted.json["running"], true);
  auto started = posted.json.value("started_at", std::string{});
  EXPECT_FALSE(started.empty());
  auto during = s.admin("GET", "/admin/v1/integrity");
  EXPECT_TRUE(during.status == 404 || during.json.value("running", false)) << during.body;
  PQclear(PQexec(holder, "COMMIT"));
  PQfinish(holder);
  json report;
  for (int i = 0; i < 100; ++i) {
    auto r = s.admin("GET", "/admin/v1/integrity");
    if (r.status == 200 && !r.json.value("running", true)) {
      report = r.json;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(report.empty());
  EXPECT_EQ(report["started_at"], started);
  EXPECT_EQ(report["checks"].size(), 7u);
  for (auto& c : report["checks"])
    EXPECT_FALSE(c.contains("error")) << c.dump();
}

TEST(Operability, IntegrityCheckFindsChargedClicksOfACampaignWithoutASpendRow) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto spend_check = [&] {
    auto r = s.admin("POST", "/admin/v1/integrity/check");
    EXPECT_EQ(r.status, 200) << r.body;
    for (auto& x : r.json["checks"])
      if (x["name"] == "spend_differs_from_clicks")
        return x;
    return json{};
  };
  auto before = spend_check();
  ASSERT_TRUE(before.contains("count")) << before.dump();
  // A charged click row of a campaign that has no ad_campaign_spend row, as
  // a faulty import would leave it (a negative id: first among the samples).
  auto campaign = std::to_string(-static_cast<int64_t>(getpid()) - 1'000'000);
  sql_one("INSERT INTO ad_clicks (advertiser_id, campaign_id, ad_id, device_id, clicked_at,"
          " charged, amount) VALUES (1, " + campaign + ", 'planted', 'planted', now(), true, 70)");
  auto after = spend_check();
  sql_one("DELETE FROM ad_clicks WHERE campaign_id = " + campaign);
  EXPECT_EQ(after["count"].get<int64_t>(), before["count"].get<int64_t>() + 1) << after.dump();
  bool named = false;
  for (auto& x : after["samples"])
    if (x["id"] == std::stoll(campaign)) {
      named = true;
      EXPECT_NE(x["detail"].get<std::string>().find("no spend row"), std::string::npos) << x;
    }
  EXPECT_TRUE(named) << after.dump();
  EXPECT_EQ(spend_check()["count"], before["count"]);
}
