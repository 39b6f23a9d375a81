// The storage clients against the real PostgreSQL and Redis of tools/check.
#include "protocol/business_time.hpp"
#include "storage/click_merge.hpp"
#include "storage/migrate.hpp"
#include "storage/pg_connection.hpp"
#include "storage/redis_connection.hpp"
#include "storage/statements.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

using namespace adserver;
using namespace adserver::storage;

namespace {

class Storage : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(apply_migrations(adserver::testing::test_pg_conninfo()), "");
    ASSERT_EQ(conn.connect(), "");
  }
  pg_connection conn{adserver::testing::test_pg_conninfo(), "Asia/Seoul"};
};

TEST_F(Storage, MigrationsAreCurrentAndIdempotent) {
  EXPECT_EQ(apply_migrations(adserver::testing::test_pg_conninfo()), "");
  pg_rows rows;
  ASSERT_EQ(conn.query({"migrations_applied", {}}, rows), "");
  std::vector<std::string> applied;
  for (auto& r : rows)
    applied.push_back(r.at(0));
  EXPECT_EQ(missing_migration(applied), "");
}

TEST_F(Storage, BatchCommitsManyUnitsInOneTransaction) {
  advertiser_spec spec{"batch", adserver::testing::unique_business_number(), "b@x.example", "T", 100};
  std::vector<pg_statement> create{advertiser_create(spec, "it")};
  std::vector<pg_results> out;
  std::string err;
  ASSERT_EQ(conn.run_batch({&create}, out, err), batch_outcome::committed) << err;
  ASSERT_EQ(out[0][0].size(), 1u);
  auto id = to_int(out[0][0][0][0]);
  // Three pipelined compare-and-set changes in one commit; the stale one
  // (wrong version) writes nothing and does not disturb the others.
  std::vector<pg_statement> a{balance_change_write(id, 0, 100, 150, "CHARGE", 50, "", "it", 0)};
  std::vector<pg_statement> b{balance_change_write(id, 1, 150, 120, "DEDUCT", 30, "", "it", 0)};
  std::vector<pg_statement> stale{balance_change_write(id, 0, 100, 90, "DEDUCT", 10, "", "it", 0)};
  ASSERT_EQ(conn.run_batch({&a, &b, &stale}, out, err), batch_outcome::committed) << err;
  EXPECT_EQ(out[0][0].size(), 1u);
  EXPECT_EQ(out[1][0].size(), 1u);
  EXPECT_EQ(out[2][0].size(), 0u);
  pg_rows rows;
  ASSERT_EQ(conn.query(advertiser_load(id), rows), "");
  auto rec = parse_advertiser(rows.at(0));
  EXPECT_EQ(rec.balance, 120);
  EXPECT_EQ(parse_advertiser_version(rows.at(0)), 2);
}

TEST_F(Storage, ManyAdvertisersClicksMergedIntoOneStatementWriteWhatEachUnitWould) {
  // Three advertisers with 1,000 won each; their ledgers' click units as the
  // writer receives them: A (two clicks), B, C with a stale version (missed
  // compare-and-set), then A's next unit (a second run).
  std::vector<int64_t> ids;
  std::vector<pg_results> out;
  std::string err;
  for (int i = 0; i < 3; ++i) {
    advertiser_spec spec{"merge", adserver::testing::unique_business_number(), "m@x.example",
                         "T", 1000};
    std::vector<pg_statement> create{advertiser_create(spec, "it")};
    ASSERT_EQ(conn.run_batch({&create}, out, err), batch_outcome::committed) << err;
    ids.push_back(to_int(out[0][0][0][0]));
  }
  auto suffix = adserver::testing::unique_suffix();
  auto make = [&](int64_t advertiser, int64_t version, int64_t before, int64_t amount, int n) {
    click_write c;
    c.advertiser_id = advertiser;
    c.expected_version = version;
    c.balance_before = before;
    c.balance_after = before - amount;
    c.campaign_id = 900'000'000 + advertiser;  // no campaign row: spend rows only
    c.amount = amount;
    c.business_date = "2026-12-07";
    c.ad_id = "ad_merge";
    // Quotes, a backslash, a comma, braces and NULL travel as text.
    c.device_id = "merge-\"\\,{NULL}-" + std::to_string(advertiser) + "-" + std::to_string(n);
    c.request_id = "merge-" + suffix + "-" + std::to_string(advertiser) + "-" + std::to_string(n);
    c.clicked_at = "2026-12-07T10:00:00+09:00";
    return c;
  };
  auto a = ids[0], b = ids[1], c = ids[2];
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({make(a, 0, 1000, 10, 1), make(a, 0, 990, 10, 2)}, 0)},
    {click_charge({make(b, 0, 1000, 7, 1)}, 0)},
    {click_charge({make(c, 5, 1000, 3, 1)}, 0)},  // stale version
    {click_charge({make(a, 2, 980, 10, 3)}, 0)},
  };
  std::vector<const std::vector<pg_statement>*> pointers;
  for (auto& u : units)
    pointers.push_back(&u);
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers, tickets);
  ASSERT_EQ(plan.units.size(), 2u);
  ASSERT_EQ(conn.run_batch(plan.units, plan.tickets, out, err), batch_outcome::committed) << err;
  std::vector<bool> doubtful;
  auto per_unit = split_merged_results(plan, out, units.size(), doubtful);
  EXPECT_EQ(doubtful, (std::vector<bool>(4, false)));
  ASSERT_EQ(per_unit.size(), 4u);
  EXPECT_EQ(per_unit[0].at(0).size(), 2u);
  EXPECT_EQ(per_unit[1].at(0).size(), 1u);
  EXPECT_EQ(per_unit[2].at(0).size(), 0u);  // as click_charge: no row on a miss
  EXPECT_EQ(per_unit[3].at(0).size(), 1u);
  auto one = [](const std::string& q) { return adserver::testing::sql_one(q); };
  auto balance = [&](int64_t id) {
    pg_rows rows;
    EXPECT_EQ(conn.query(advertiser_load(id), rows), "");
    return std::make_pair(parse_advertiser(rows.at(0)).balance,
                          parse_advertiser_version(rows.at(0)));
  };
  EXPECT_EQ(balance(a), std::make_pair(int64_t{970}, int64_t{3}));
  EXPECT_EQ(balance(b), std::make_pair(int64_t{993}, int64_t{1}));
  EXPECT_EQ(balance(c), std::make_pair(int64_t{1000}, int64_t{0}));
  auto in = std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c);
  EXPECT_EQ(one("SELECT string_agg(advertiser_id || ':' || amount || ':' || balance_after, ' '"
                " ORDER BY id) FROM ad_balance_histories WHERE transaction_type = 'CLICK'"
                " AND advertiser_id IN (" + in + ")"),
            std::to_string(a) + ":10:990 " + std::to_string(a) + ":10:980 " + std::to_string(b)
              + ":7:993 " + std::to_string(a) + ":10:970");
  EXPECT_EQ(one("SELECT count(*) FROM ad_clicks WHERE charged AND advertiser_id IN (" + in + ")"),
            "4");
  EXPECT_EQ(one("SELECT device_id FROM ad_clicks WHERE advertiser_id = " + std::to_string(b)),
            "merge-\"\\,{NULL}-" + std::to_string(b) + "-1");
  EXPECT_EQ(one("SELECT string_agg(campaign_id - 900000000 || ':' || spent, ' ' ORDER BY"
                " campaign_id) FROM ad_campaign_daily_spend WHERE campaign_id IN ("
                + std::to_string(900'000'000 + a) + "," + std::to_string(900'000'000 + b) + ","
                + std::to_string(900'000'000 + c) + ")"),
            std::to_string(a) + ":30 " + std::to_string(b) + ":7");
}

TEST_F(Storage, APairsLastChargeAgeComesFromTheDatabasesClock) {
  advertiser_spec spec{"age", adserver::testing::unique_business_number(), "a@x.example", "T",
                       1000};
  std::vector<pg_statement> create{advertiser_create(spec, "it")};
  std::vector<pg_results> out;
  std::string err;
  ASSERT_EQ(conn.run_batch({&create}, out, err), batch_outcome::committed) << err;
  click_write c;
  c.advertiser_id = to_int(out[0][0][0][0]);
  c.balance_before = 1000;
  c.balance_after = 990;
  c.campaign_id = 900'000'000 + c.advertiser_id;
  c.amount = 10;
  c.business_date = "2026-12-07";
  c.ad_id = "ad_age";
  c.device_id = "age-" + adserver::testing::unique_suffix();
  c.request_id = "age-" + adserver::testing::unique_suffix();
  // A node whose clock is 90 minutes slow: the age is still the database's.
  c.clicked_at = iso8601(std::chrono::system_clock::now() - std::chrono::minutes(90));
  std::vector<pg_statement> charge{click_charge({c}, 0)};
  ASSERT_EQ(conn.run_batch({&charge}, out, err), batch_outcome::committed) << err;
  ASSERT_EQ(out[0][0].size(), 1u);
  // An unbilled click of another device, and a charge of a third whose row
  // the database wrote just over an hour ago: neither is a charge within it.
  auto unbilled = c;
  unbilled.device_id = c.device_id + "-unbilled";
  unbilled.request_id = c.request_id + "-unbilled";
  std::vector<pg_statement> record{click_record(unbilled, "DUPLICATE_CLICK")};
  ASSERT_EQ(conn.run_batch({&record}, out, err), batch_outcome::committed) << err;
  auto old = c;
  old.device_id = c.device_id + "-old";
  old.request_id = c.request_id + "-old";
  old.expected_version = 1;
  old.balance_before = 990;
  old.balance_after = 980;
  std::vector<pg_statement> old_charge{click_charge({old}, 0)};
  ASSERT_EQ(conn.run_batch({&old_charge}, out, err), batch_outcome::committed) << err;
  ASSERT_EQ(out[0][0].size(), 1u);
  adserver::testing::sql_one("UPDATE ad_clicks SET created_at = now() - interval '3601 seconds'"
                             " WHERE device_id = '" + old.device_id + "' RETURNING 1");
  auto age = [&](const std::string& device, const std::string& ad) {
    pg_rows rows;
    EXPECT_EQ(conn.query(pair_last_charge_age(device, ad, 3600), rows), "");
    return rows.size() == 1 ? to_int(rows[0].at(0)) : -100;
  };
  auto now_age = age(c.device_id, "ad_age");
  EXPECT_GE(now_age, 0);
  EXPECT_LE(now_age, 5);
  EXPECT_EQ(age(c.device_id, "ad_other"), -1);
  EXPECT_EQ(age(c.device_id + "-other", "ad_age"), -1);
  EXPECT_EQ(age(unbilled.device_id, "ad_age"), -1);
  EXPECT_EQ(age(old.device_id, "ad_age"), -1);
}

TEST_F(Storage, AFailingStatementRollsBackItsBatch) {
  advertiser_spec spec{"fail", adserver::testing::unique_business_number(), "f@x.example", "T", 10};
  std::vector<pg_statement> create{advertiser_create(spec, "it")};
  std::vector<pg_results> out;
  std::string err;
  ASSERT_EQ(conn.run_batch({&create}, out, err), batch_outcome::committed) << err;
  auto id = to_int(out[0][0][0][0]);
  std::vector<pg_statement> ok{balance_change_write(id, 0, 10, 20, "CHARGE", 10, "", "it", 0)};
  // balance_after below zero violates the CHECK constraint.
  std::vector<pg_statement> bad{balance_change_write(id, 1, 20, -5, "DEDUCT", 25, "", "it", 0)};
  EXPECT_EQ(conn.run_batch({&ok, &bad}, out, err), batch_outcome::statement_failed);
  pg_rows rows;
  ASSERT_EQ(conn.query(advertiser_load(id), rows), "");
  EXPECT_EQ(parse_advertiser(rows.at(0)).balance, 10);
  // The connection is usable afterwards.
  ASSERT_EQ(conn.run_batch({&ok}, out, err), batch_outcome::committed) << err;
}

TEST_F(Storage, LedgerLeasesFenceMoneyWritesInTheDatabase) {
  advertiser_spec spec{"lease", adserver::testing::unique_business_number(), "l@x.example", "T", 100};
  std::vector<pg_statement> create{advertiser_create(spec, "it")};
  std::vector<pg_results> out;
  std::string err;
  ASSERT_EQ(conn.run_batch({&create}, out, err), batch_outcome::committed) << err;
  auto id = to_int(out[0][0][0][0]);
  auto a = "lease-a-" + adserver::testing::unique_suffix();
  auto b = "lease-b-" + adserver::testing::unique_suffix();
  auto acquire = [&](const std::string& node, bool take_over = false) {
    pg_rows rows;
    EXPECT_EQ(conn.query(ledger_lease_acquire(id, node, 1, take_over), rows), "");
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? pg_row{} : rows[0];
  };
  cluster_member member_a;
  member_a.node_id = a;
  member_a.incarnation = 1;
  member_a.http_url = "http://127.0.0.1:1";
  pg_rows rows;
  ASSERT_EQ(conn.query(member_register(member_a, 60000), rows), "");
  ASSERT_EQ(rows.size(), 1u);
  // A node without a live membership takes nothing, even a free lease.
  EXPECT_EQ(acquire(b).at(0), "");
  auto member_b = member_a;
  member_b.node_id = b;
  ASSERT_EQ(conn.query(member_register(member_b, 60000), rows), "");
  // A free lease is taken: epoch 1.
  auto first = acquire(a);
  EXPECT_EQ(first.at(0), "1");
  // Held by a live node: not taken; the holder is named.
  auto refused = acquire(b);
  EXPECT_EQ(refused.at(0), "");
  EXPECT_EQ(refused.at(1), a);
  // A's membership expires: B takes the lease, epoch 2.
  ASSERT_EQ(conn.exec("UPDATE cluster_members SET expires_at = now() - interval '1 second'"
                      " WHERE node_id = '" + a + "'"),
            "");
  EXPECT_EQ(acquire(b).at(0), "2");
  // A (paused, then resumed) still writes with epoch 1: refused by the
  // database; B's write with epoch 2 commits.
  std::vector<pg_statement> stale{balance_change_write(id, 0, 100, 50, "DEDUCT", 50, "", "it", 1)};
  std::vector<pg_statement> current{balance_change_write(id, 0, 100, 70, "DEDUCT", 30, "", "it", 2)};
  ASSERT_EQ(conn.run_batch({&stale}, out, err), batch_outcome::committed) << err;
  EXPECT_EQ(out[0][0].size(), 0u);
  click_write click;
  click.advertiser_id = id;
  click.expected_version = 0;
  click.balance_before = 100;
  click.balance_after = 90;
  click.amount = 10;
  click.business_date = "2026-12-06";
  click.ad_id = "ad_0";
  click.device_id = "lease-device";
  click.request_id = "lease-" + adserver::testing::unique_suffix();
  click.clicked_at = "2026-12-06T10:00:00+09:00";
  std::vector<pg_statement> stale_click{click_charge({click}, 1)};
  ASSERT_EQ(conn.run_batch({&stale_click}, out, err), batch_outcome::committed) << err;
  EXPECT_EQ(out[0][0].size(), 0u);
  ASSERT_EQ(conn.run_batch({&current}, out, err), batch_outcome::committed) << err;
  EXPECT_EQ(out[0][0].size(), 1u);
  rows.clear();
  ASSERT_EQ(conn.query(advertiser_load(id), rows), "");
  EXPECT_EQ(parse_advertiser(rows.at(0)).balance, 70);
  // A's release names epoch 1: B keeps the lease. B's own release frees it.
  std::vector<pg_statement> release_a{ledger_lease_release(id, 1)};
  ASSERT_EQ(conn.run_batch({&release_a}, out, err), batch_outcome::committed) << err;
  rows.clear();
  ASSERT_EQ(conn.query(ledger_lease_read(id), rows), "");
  EXPECT_EQ(rows.at(0).at(0), b);
  std::vector<pg_statement> release_b{ledger_lease_release(id, 2)};
  ASSERT_EQ(conn.run_batch({&release_b}, out, err), batch_outcome::committed) << err;
  rows.clear();
  ASSERT_EQ(conn.query(ledger_lease_read(id), rows), "");
  EXPECT_EQ(rows.at(0).at(0), "");
  EXPECT_EQ(rows.at(0).at(1), "2");
  // A single node takes over whoever holds the lease (the epoch still
  // fences the other).
  ASSERT_EQ(acquire(b).at(0), "3");
  EXPECT_EQ(acquire(a, true).at(0), "");  // a's membership expired: nothing
  ASSERT_EQ(conn.exec("UPDATE cluster_members SET expires_at = now() + interval '1 minute'"
                      " WHERE node_id = '" + a + "'"),
            "");
  EXPECT_EQ(acquire(a).at(0), "");  // b is live
  EXPECT_EQ(acquire(a, true).at(0), "4");
  // Leases a node holds without a ledger are swept; those it names are kept.
  std::vector<pg_statement> keep{ledger_leases_sweep(a, {id})};
  ASSERT_EQ(conn.run_batch({&keep}, out, err), batch_outcome::committed) << err;
  rows.clear();
  ASSERT_EQ(conn.query(ledger_lease_read(id), rows), "");
  EXPECT_EQ(rows.at(0).at(0), a);
  std::vector<pg_statement> sweep{ledger_leases_sweep(a, {})};
  ASSERT_EQ(conn.run_batch({&sweep}, out, err), batch_outcome::committed) << err;
  rows.clear();
  ASSERT_EQ(conn.query(ledger_lease_read(id), rows), "");
  EXPECT_EQ(rows.at(0).at(0), "");
  std::vector<pg_statement> leave{member_leave(a, 1), member_leave(b, 1)};
  ASSERT_EQ(conn.run_batch({&leave}, out, err), batch_outcome::committed) << err;
}

TEST(RedisConnection, PipelinedSetGet) {
  redis_connection rc{"127.0.0.1", adserver::testing::test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  auto key = "it:" + adserver::testing::unique_suffix();
  std::vector<redis_connection::reply> replies;
  std::string err;
  ASSERT_TRUE(rc.pipeline({{"SET", key, "42", "EX", "60"}, {"GET", key}, {"TTL", key}}, replies,
                          err))
    << err;
  EXPECT_EQ(replies[1].text, "42");
  EXPECT_GT(std::stoi(replies[2].text), 0);
}

}  // namespace
