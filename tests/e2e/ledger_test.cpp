// Money through the real HTTP API: concurrency, crash durability, Redis outage.
#include "storage/redis_connection.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

/// A query against the test database; the first column of each row.
std::vector<std::vector<std::string>> sql(const std::string& query) {
  std::vector<std::vector<std::string>> out;
  PGconn* c = PQconnectdb(test_pg_conninfo().c_str());
  EXPECT_EQ(PQstatus(c), CONNECTION_OK);
  PGresult* r = PQexec(c, query.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int k = 0; k < PQnfields(r); ++k)
      row.emplace_back(PQgetvalue(r, i, k));
    out.push_back(row);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

int64_t create_advertiser(const server_process& s, int64_t initial) {
  json body = {{"advertiser_name", "Ledger " + unique_suffix()},
               {"business_number", unique_business_number()},
               {"email", "ledger@test.example"},
               {"business_type", "RETAIL"},
               {"initial_balance", initial}};
  auto r = s.admin("POST", "/admin/v1/advertisers", body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("id", int64_t{0});
}

std::string redis_get(const std::string& key) {
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  if (!rc.connect().empty())
    return "<down>";
  adserver::storage::redis_connection::reply rep;
  std::string err;
  if (!rc.run({"GET", key}, rep, err))
    return "<down>";
  return rep.nil ? "<nil>" : rep.text;
}

void services(const std::string& what) {
  auto cmd = std::string{ADSERVER_SOURCE_DIR} + "/tools/services " + what + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(Ledger, ConcurrentDeductsNeverOverspendAndEachHasOneHistoryRow) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  const int64_t initial = 5000;
  auto id = create_advertiser(s, initial);
  auto path = "/admin/v1/advertisers/" + std::to_string(id) + "/balance";
  std::atomic<int64_t> accepted_sum{0};
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::mutex m;
  std::set<int64_t> history_ids;
  std::vector<std::thread> clients;
  for (int i = 0; i < 200; ++i)
    clients.emplace_back([&, i] {
      int64_t amount = 1 + (i * 37) % 97;  // sum over 200 clients exceeds the balance
      auto r = s.admin("PUT", path,
                       json{{"action", "deduct"}, {"amount", amount}}.dump());
      if (r.status == 200) {
        accepted_sum += amount;
        ++accepted;
        std::lock_guard<std::mutex> g(m);
        history_ids.insert(r.json["history_id"].get<int64_t>());
      } else if (r.status == 409 && r.json["error"]["code"] == "INSUFFICIENT_BALANCE") {
        ++refused;
      } else {
        ++other;
      }
    });
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(accepted + refused, 200);
  auto view = s.admin("GET", path);
  ASSERT_EQ(view.status, 200);
  auto balance = view.json["balance"].get<int64_t>();
  EXPECT_EQ(balance, initial - accepted_sum.load());
  EXPECT_GE(balance, 0);
  // Refusals happen only when the rest would not cover them.
  EXPECT_LT(balance, 97);

  auto db = sql("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + std::to_string(id));
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(std::stoll(db[0][0]), balance);
  auto hist = sql("SELECT count(*), coalesce(sum(amount), 0) FROM ad_balance_histories "
                  "WHERE transaction_type = 'DEDUCT' AND advertiser_id = " + std::to_string(id));
  EXPECT_EQ(std::stoll(hist[0][0]), accepted.load());
  EXPECT_EQ(std::stoll(hist[0][1]), accepted_sum.load());
  EXPECT_EQ(history_ids.size(), static_cast<size_t>(accepted.load()));
  // The history chains: every row starts where the previous ended.
  auto chain = sql("SELECT balance_before, balance_after FROM ad_balance_histories "
                   "WHERE advertiser_id = " + std::to_string(id) + " ORDER BY id");
  for (size_t i = 1; i < chain.size(); ++i)
    EXPECT_EQ(chain[i][0], chain[i - 1][1]) << "row " << i;
}

TEST(Ledger, AcknowledgedChangesSurviveKillDashNine) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto id = create_advertiser(s, 0);
  auto path = "/admin/v1/advertisers/" + std::to_string(id) + "/balance";
  std::atomic<int64_t> acked_sum{0};
  std::mutex m;
  std::vector<int64_t> acked_ids;
  std::vector<std::thread> clients;
  for (int i = 0; i < 100; ++i)
    clients.emplace_back([&, i] {
      auto r = s.admin("PUT", path, json{{"action", "charge"}, {"amount", 100 + i}}.dump());
      if (r.status == 200) {
        acked_sum += 100 + i;
        std::lock_guard<std::mutex> g(m);
        acked_ids.push_back(r.json["history_id"].get<int64_t>());
      }
    });
  for (auto& t : clients)
    t.join();
  s.kill9();  // right after the burst: no clean shutdown
  ASSERT_EQ(acked_ids.size(), 100u);
  ASSERT_TRUE(s.start()) << s.output();
  auto view = s.admin("GET", path);
  ASSERT_EQ(view.status, 200);
  EXPECT_EQ(view.json["balance"].get<int64_t>(), acked_sum.load());
  std::string ids;
  for (auto h : acked_ids)
    ids += (ids.empty() ? "" : ",") + std::to_string(h);
  auto found = sql("SELECT count(*) FROM ad_balance_histories WHERE id IN (" + ids + ")");
  EXPECT_EQ(std::stoll(found[0][0]), 100);
}

TEST(Ledger, AfterAnotherNodeTakesTheLeaseTheStaleLedgerChargesNothing) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto id = create_advertiser(s, 1000);
  auto a = std::to_string(id);
  auto path = "/admin/v1/advertisers/" + a + "/balance";
  auto charge = [&] { return s.admin("PUT", path, R"({"action":"charge","amount":100})"); };
  ASSERT_EQ(charge().status, 200);
  auto lease = sql("SELECT lease_node, lease_epoch FROM ad_balances WHERE advertiser_id = " + a);
  ASSERT_EQ(lease.size(), 1u);
  auto node = lease[0][0];
  EXPECT_FALSE(node.empty()) << "the ledger serves without a lease";
  EXPECT_EQ(sql("SELECT count(*) FROM cluster_members WHERE node_id = '" + node
                + "' AND expires_at > now()")[0][0],
            "1");
  // A partition: another node, alive, found this one dead and took the lease.
  auto intruder = "intruder-" + unique_suffix();
  sql("INSERT INTO cluster_members (node_id, incarnation, http_url, expires_at) VALUES ('"
      + intruder + "', 1, 'http://127.0.0.1:1', now() + interval '1 minute') RETURNING 1");
  sql("UPDATE ad_balances SET lease_node = '" + intruder
      + "', lease_epoch = lease_epoch + 1 WHERE advertiser_id = " + a + " RETURNING 1");
  // The ledger in memory still holds the old epoch: its write is refused.
  auto refused = charge();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"], "UNAVAILABLE") << refused.body;
  EXPECT_EQ(sql("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a)[0][0],
            "1100");
  EXPECT_EQ(sql("SELECT count(*) FROM ad_balance_histories WHERE advertiser_id = " + a)[0][0],
            "2");  // INITIAL and the first charge
  // A single node (cluster.actor_port 0) takes the lease over with a new
  // epoch and reads the balance afresh: money moves again.
  auto again = charge();
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["balance_after"], 1200);
  EXPECT_EQ(sql("SELECT lease_node FROM ad_balances WHERE advertiser_id = " + a)[0][0], node);
  sql("DELETE FROM cluster_members WHERE node_id = '" + intruder + "' RETURNING 1");
  // An orderly stop leaves the members table: the lease is free at once.
  EXPECT_TRUE(s.stop());
  EXPECT_EQ(sql("SELECT count(*) FROM cluster_members WHERE node_id = '" + node + "'")[0][0],
            "0");
}

TEST(Ledger, RedisOutageDoesNotStopMoneyAndTheMirrorCatchesUp) {
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto id = create_advertiser(s, 1000);
  auto key = "balance:" + std::to_string(id);
  auto path = "/admin/v1/advertisers/" + std::to_string(id) + "/balance";
  for (int i = 0; i < 50 && redis_get(key) != "1000"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(redis_get(key), "1000");

  services("redis-down");
  struct restore {
    ~restore() { std::system((std::string{ADSERVER_SOURCE_DIR} + "/tools/services redis-up >/dev/null 2>&1").c_str()); }
  } guard;
  for (int i = 0; i < 5; ++i) {
    auto r = s.admin("PUT", path, R"({"action":"charge","amount":200})");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(redis_get(key), "<down>");
  services("redis-up");
  std::string mirrored;
  for (int i = 0; i < 100; ++i) {
    mirrored = redis_get(key);
    if (mirrored == "2000")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(mirrored, "2000");
  EXPECT_EQ(s.admin("GET", path).json["balance"], 2000);
}

}  // namespace
