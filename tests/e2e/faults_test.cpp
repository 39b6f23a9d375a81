// PostgreSQL stopped for 10 s under a steady admin and click load, then
// started again, on a private PostgreSQL and Redis of this test (the shared
// ones keep serving other tests). What must hold: every request answered
// within its deadline; nothing applied after a failure or time-out answer;
// every applied change in the history exactly once; Idempotency-Key retries
// applied once.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int pg_port = 31498;  // below the ephemeral port range
constexpr int redis_port = 31499;
const std::string data_dir = "/tmp/adserver-faults-" + std::to_string(getpid());

std::string conninfo() {
  return "host=127.0.0.1 port=" + std::to_string(pg_port)
         + " dbname=adserver user=adserver connect_timeout=2";
}

int services(const std::string& what) {
  auto cmd = "ADSERVER_DATA_DIR=" + data_dir + " ADSERVER_PG_PORT=" + std::to_string(pg_port)
             + " ADSERVER_REDIS_PORT=" + std::to_string(redis_port) + " "
             + ADSERVER_SOURCE_DIR + "/tools/services " + what + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

std::vector<std::vector<std::string>> sql(const std::string& q) {
  std::vector<std::vector<std::string>> out;
  PGconn* c = PQconnectdb(conninfo().c_str());
  PGresult* r = PQexec(c, q.c_str());
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j)
      row.emplace_back(PQgetvalue(r, i, j));
    out.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

std::string uuid(int i) {
  return test_uuid("a000", i);
}

/// One request's answer and how long it took.
struct answer {
  int status = 0;
  bool outcome_unknown = false;  // connection lost during the write
  json body;
  int64_t ms = 0;
};

answer timed(const std::function<http_result()>& call) {
  auto t0 = clock_type::now();
  auto r = call();
  answer a;
  a.status = r.status;
  a.body = r.json;
  a.ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
  a.outcome_unknown =
    r.status == 503 && r.json.is_object()
    && r.json["error"]["details"].value("outcome", std::string{}) == "unknown";
  if (r.status == 503)
    EXPECT_FALSE(r.header("Retry-After").empty()) << "503 without Retry-After";
  return a;
}

class Faults : public ::testing::Test {
protected:
  static void SetUpTestSuite() { ASSERT_EQ(services("up"), 0); }
  static void TearDownTestSuite() {
    services("down");
    std::system(("rm -rf " + data_dir).c_str());
  }
};

TEST_F(Faults, PostgresStoppedUnderLoadNothingAppliedAfterAFailureAnswer) {
  constexpr int64_t admin_deadline = 3000, api_deadline = 2000;
  server_process s({{"postgres.conninfo", conninfo()},
                    {"redis.port", std::to_string(redis_port)},
                    {"http.admin_deadline_ms", std::to_string(admin_deadline)},
                    {"http.api_deadline_ms", std::to_string(api_deadline)},
                    {"postgres.statement_timeout_ms", "1000"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto adv = s.admin("POST", "/admin/v1/advertisers",
                     json{{"advertiser_name", "Faults"},
                          {"business_number", unique_business_number()},
                          {"email", "f@test.example"},
                          {"business_type", "RETAIL"},
                          {"initial_balance", 1'000'000}}
                       .dump());
  ASSERT_EQ(adv.status, 201) << adv.body;
  auto advertiser = std::to_string(adv.json["id"].get<int64_t>());
  auto pid = "FLT_" + unique_suffix();
  ASSERT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  auto term = "fault" + unique_suffix();
  auto c = s.admin("POST", "/admin/v1/campaigns",
                   json{{"advertiser_id", adv.json["id"]}, {"campaign_name", "c"},
                        {"product_id", pid}, {"start_date", "2026-01-01"},
                        {"end_date", "2099-01-01"}, {"daily_budget", 10'000'000}, {"delivery", "ACCELERATED"},
                        {"total_budget", 10'000'000}, {"targeting", {{"keywords", {term}}}},
                        {"bids", {{"SEARCH", 100}}}}
                     .dump());
  ASSERT_EQ(c.status, 201) << c.body;
  ASSERT_EQ(s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(c.json["id"].get<int64_t>())
                               + "/status",
                    R"({"status":"ACTIVE"})")
              .status,
            200);
  std::vector<std::string> tokens;
  for (int i = 0; i < 1000; ++i) {
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", uuid(i)}, {"session_id", "s"}, {"placement", "SEARCH"},
                         {"search_term", term}}
                      .dump());
    ASSERT_EQ(r.json["ads"].size(), 1u) << r.body;
    tokens.push_back(r.json["ads"][0]["token"]);
  }

  std::mutex mtx;
  std::map<int, answer> charges;  // charge number -> answer
  std::map<int, answer> clicks;   // device -> answer
  std::atomic<bool> stop{false};
  std::atomic<int> ok_after_restart{0};
  std::atomic<bool> restarted{false};
  auto charge_body = [](int i) {
    return json{{"action", "charge"}, {"amount", 100 + i}, {"memo", "fault-charge-" + std::to_string(i)}}
      .dump();
  };
  auto charge_key = [](int i) { return "fault-key-" + std::to_string(i); };
  std::thread admin_load([&] {
    for (int i = 0; !stop; ++i) {
      auto a = timed([&] {
        return s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge_body(i),
                       {{"Idempotency-Key", charge_key(i)}});
      });
      if (a.status == 200 && restarted)
        ++ok_after_restart;
      std::lock_guard<std::mutex> g{mtx};
      charges[i] = a;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::thread click_load([&] {
    for (int d = 0; !stop && d < static_cast<int>(tokens.size()); ++d) {
      auto a = timed([&] {
        return s.call("POST", "/api/v1/ads/click",
                      json{{"token", tokens[d]}, {"device_id", uuid(d)}}.dump());
      });
      std::lock_guard<std::mutex> g{mtx};
      clicks[d] = a;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(services("pg-down"), 0);
  auto went_down = clock_type::now();
  // While it is down, readiness says so quickly, without waiting for it.
  bool reported_down = false;
  for (int i = 0; i < 80 && !reported_down; ++i) {
    auto t0 = clock_type::now();
    auto r = s.call("GET", "/readyz");
    EXPECT_LT(clock_type::now() - t0, std::chrono::milliseconds(500));
    reported_down = r.status == 503;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reported_down) << "/readyz stayed 200 with PostgreSQL stopped";
  std::this_thread::sleep_until(went_down + std::chrono::seconds(10));
  ASSERT_EQ(services("pg-up"), 0);
  restarted = true;
  for (int i = 0; i < 300 && ok_after_restart < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  admin_load.join();
  click_load.join();
  EXPECT_GE(ok_after_restart.load(), 5) << "charges did not recover after PostgreSQL returned";
  // Anything parked or queued would land now: give it the time to.
  std::this_thread::sleep_for(std::chrono::seconds(3));

  int failed_charges = 0, failed_clicks = 0;
  std::set<std::string> applied_memos;
  for (auto& row : sql("SELECT memo, count(*) FROM ad_balance_histories WHERE advertiser_id = "
                       + advertiser + " AND transaction_type = 'CHARGE' GROUP BY memo")) {
    EXPECT_EQ(row[1], "1") << "applied twice: " << row[0];
    applied_memos.insert(row[0]);
  }
  for (auto& [i, a] : charges) {
    EXPECT_LE(a.ms, admin_deadline + 1000) << "charge " << i << " answered after its deadline";
    EXPECT_TRUE(a.status == 200 || a.status == 503) << a.status << " " << a.body.dump();
    auto memo = "fault-charge-" + std::to_string(i);
    if (a.status == 200)
      EXPECT_EQ(applied_memos.count(memo), 1u) << "acknowledged but not stored: " << memo;
    if (a.status == 503 && !a.outcome_unknown) {
      ++failed_charges;
      EXPECT_EQ(applied_memos.count(memo), 0u) << "told it failed, applied later: " << memo;
    }
  }
  std::map<std::string, int> click_rows;
  for (auto& row : sql("SELECT device_id, count(*) FROM ad_clicks WHERE advertiser_id = "
                       + advertiser + " GROUP BY device_id"))
    click_rows[row[0]] = std::stoi(row[1]);
  int charged = 0, unknown_clicks = 0;
  for (auto& [d, a] : clicks) {
    EXPECT_LE(a.ms, api_deadline + 1000) << "click " << d << " answered after its deadline";
    EXPECT_TRUE(a.status == 200 || a.status == 503) << a.status << " " << a.body.dump();
    EXPECT_LE(click_rows[uuid(d)], 1) << "a click stored twice";
    if (a.status == 200 && a.body["charged"] == true) {
      ++charged;
      EXPECT_EQ(click_rows[uuid(d)], 1);
    }
    if (a.outcome_unknown)
      ++unknown_clicks;
    if (a.status == 503 && !a.outcome_unknown) {
      ++failed_clicks;
      EXPECT_EQ(click_rows[uuid(d)], 0) << "click told it failed, stored later: " << uuid(d);
    }
  }
  std::printf("charges %zu (failed %d), clicks %zu (charged %d, failed %d, outcome unknown %d)\n",
              charges.size(), failed_charges, clicks.size(), charged, failed_clicks,
              unknown_clicks);
  EXPECT_GT(failed_charges, 0) << "the outage was not seen by the admin load";
  EXPECT_GT(failed_clicks, 0) << "the outage was not seen by the click load";
  auto click_history = std::stoi(sql("SELECT count(*) FROM ad_balance_histories WHERE "
                                     "transaction_type = 'CLICK' AND advertiser_id = " + advertiser)[0][0]);
  EXPECT_GE(click_history, charged);
  EXPECT_LE(click_history, charged + unknown_clicks);

  // Every charge retried with its key: applied exactly once in all.
  for (auto& [i, a] : charges) {
    http_result r;
    for (int attempt = 0; attempt < 20; ++attempt) {
      r = s.admin("PUT", "/admin/v1/advertisers/" + advertiser + "/balance", charge_body(i),
                  {{"Idempotency-Key", charge_key(i)}});
      if (r.status == 200)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(r.status, 200) << r.body;
    if (a.status == 200) {
      EXPECT_EQ(r.json, a.body) << "a replay must answer the original response";
      EXPECT_EQ(r.header("Idempotent-Replayed"), "true");
    }
  }
  for (auto& row : sql("SELECT memo, count(*) FROM ad_balance_histories WHERE advertiser_id = "
                       + advertiser + " AND transaction_type = 'CHARGE' GROUP BY memo"))
    EXPECT_EQ(row[1], "1") << "applied twice after retries: " << row[0];
  auto charges_stored = sql("SELECT count(*) FROM ad_balance_histories WHERE advertiser_id = "
                            + advertiser + " AND transaction_type = 'CHARGE'");
  EXPECT_EQ(charges_stored[0][0], std::to_string(charges.size()));
  // Money reconciles: API = PostgreSQL = initial + charges - clicks.
  auto sums = sql("SELECT coalesce(sum(CASE WHEN transaction_type = 'CLICK' THEN -amount ELSE amount END), 0)"
                  " FROM ad_balance_histories WHERE advertiser_id = " + advertiser
                  + " AND transaction_type IN ('CHARGE', 'CLICK')");
  auto stored = sql("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + advertiser);
  EXPECT_EQ(std::stoll(stored[0][0]), 1'000'000 + std::stoll(sums[0][0]));
  auto api = s.admin("GET", "/admin/v1/advertisers/" + advertiser + "/balance");
  EXPECT_EQ(api.json["balance"].get<int64_t>(), std::stoll(stored[0][0]));
  EXPECT_TRUE(s.stop());
}

}  // namespace
