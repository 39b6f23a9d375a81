// The pg-writer actor against the real PostgreSQL of tools/check: how it
// gathers units into commits, and that nothing it accepted is dropped when it
// stops.
#include "actors/system_setup.hpp"
#include "storage/dashboard_statements.hpp"
#include "storage/migrate.hpp"
#include "storage/pg_actors.hpp"
#include "storage/pg_connection.hpp"
#include "storage/statements.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/status_figure.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace adserver;
using namespace adserver::storage;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

class PgWriter : public ::testing::Test {
protected:
  PgWriter() : sys(cfg), self(sys) {}

  void SetUp() override {
    ASSERT_EQ(apply_migrations(adserver::testing::test_pg_conninfo()), "");
    ASSERT_EQ(conn.connect(), "");
  }

  pg_writer_actor start(int64_t linger_ms) {
    pg_settings s;
    s.conninfo = adserver::testing::test_pg_conninfo();
    s.time_zone = "Asia/Seoul";
    s.role = writer_role::counters;
    s.linger_ms = linger_ms;
    return sys.spawn<caf::detached>(pg_writer, s);
  }

  static std::vector<pg_statement> new_advertiser(int i) {
    advertiser_spec spec{"linger-" + std::to_string(i), adserver::testing::unique_business_number(),
                         "l@x.example", "T", 100};
    return {advertiser_create(spec, "it")};
  }

  int64_t figure(const pg_writer_actor& a, const std::string& name) {
    return adserver::testing::status_figure(self, a, name);
  }

  /// The MINUTE window's CLICKS of a campaign (-1: no row).
  int64_t minute_clicks(int64_t campaign_id, int64_t minute_start) {
    pg_rows rows;
    EXPECT_EQ(conn.query(dashboard_rows(campaign_id, "MINUTE", minute_start, minute_start + 60,
                                        100),
                         rows),
              "");
    for (auto& row : rows)
      if (row.at(1) == "CLICKS")
        return to_int(row.at(2));
    return -1;
  }

  bool advertiser_exists(int64_t id) {
    pg_rows rows;
    return conn.query(advertiser_load(id), rows).empty() && rows.size() == 1;
  }

  config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  pg_connection conn{adserver::testing::test_pg_conninfo(), "Asia/Seoul"};
};

TEST_F(PgWriter, UnitsArrivingWithinTheLingerShareOneCommit) {
  auto w = start(2000);
  ASSERT_EQ(figure(w, "commits"), 0);  // started and connected
  using handle = decltype(self->request(w, caf::infinite, write_atom::value,
                                        std::vector<pg_statement>{}));
  std::vector<handle> pending;
  auto sent = std::chrono::steady_clock::now();
  pending.push_back(self->request(w, caf::infinite, write_atom::value, new_advertiser(0)));
  // Well within the linger, the first unit still waits: the others join it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(figure(w, "commits"), 0);
  for (int i = 1; i < 20; ++i)
    pending.push_back(self->request(w, caf::infinite, write_atom::value, new_advertiser(i)));
  std::vector<int64_t> ids;
  for (auto& h : pending)
    h.receive([&](const pg_results& r) { ids.push_back(to_int(r.at(0).at(0).at(0))); },
              [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(2000));
  ASSERT_EQ(ids.size(), 20u);
  for (auto id : ids)
    EXPECT_TRUE(advertiser_exists(id)) << id;
  EXPECT_EQ(figure(w, "commits"), 1);
  EXPECT_EQ(figure(w, "units_committed"), 20);
  self->send_exit(w, caf::exit_reason::user_shutdown);
}

TEST_F(PgWriter, WithoutLingerAUnitCommitsAtOnce) {
  auto w = start(0);
  ASSERT_EQ(figure(w, "commits"), 0);
  auto first = self->request(w, caf::infinite, write_atom::value, new_advertiser(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(figure(w, "commits"), 1);  // committed before anything else came
  first.receive([](const pg_results&) {},
                [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  self->send_exit(w, caf::exit_reason::user_shutdown);
}

TEST_F(PgWriter, ACountersBatchInLockOrderAnswersEachUnitWithItsOwnResult) {
  // The counters writer sorts a batch by statement and first parameter (here
  // the advertiser's name), so these run in the reverse of their order.
  auto w = start(500);
  ASSERT_EQ(figure(w, "commits"), 0);
  using handle = decltype(self->request(w, caf::infinite, write_atom::value,
                                        std::vector<pg_statement>{}));
  std::vector<std::pair<std::string, handle>> pending;
  for (int i = 9; i >= 0; --i) {
    auto unit = new_advertiser(i);
    auto name = unit.at(0).params.at(0);
    pending.emplace_back(name, self->request(w, caf::infinite, write_atom::value, std::move(unit)));
  }
  for (auto& [name, h] : pending)
    h.receive(
      [&, name = name](const pg_results& r) {
        pg_rows rows;
        ASSERT_EQ(conn.query(advertiser_load(to_int(r.at(0).at(0).at(0))), rows), "");
        ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(parse_advertiser(rows[0]).advertiser_name, name);
      },
      [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  EXPECT_EQ(figure(w, "commits"), 1);
  self->send_exit(w, caf::exit_reason::user_shutdown);
}

TEST_F(PgWriter, UnitsWaitingForALingeringCommitAreWrittenWhenTheWriterStops) {
  // A linger far beyond the test: only the stop can write them.
  auto w = start(60'000);
  using handle = decltype(self->request(w, caf::infinite, write_atom::value,
                                        std::vector<pg_statement>{}));
  std::vector<handle> pending;
  for (int i = 0; i < 5; ++i)
    pending.push_back(self->request(w, caf::infinite, write_atom::value, new_advertiser(i)));
  EXPECT_EQ(figure(w, "queued"), 5);  // answered after the five: all queued, none committed
  EXPECT_EQ(figure(w, "commits"), 0);
  self->send_exit(w, caf::exit_reason::user_shutdown);
  self->wait_for(w);
  std::vector<int64_t> ids;
  for (auto& h : pending)
    h.receive([&](const pg_results& r) { ids.push_back(to_int(r.at(0).at(0).at(0))); },
              [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  ASSERT_EQ(ids.size(), 5u);
  for (auto id : ids)
    EXPECT_TRUE(advertiser_exists(id)) << id;
}

TEST_F(PgWriter, WindowsOfManyCampaignsCommitAsOneStatementAndAddUpExactly) {
  // Campaign ids no other test uses (the table has no foreign key).
  int64_t c1 = 8'000'000'000'000 + std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                        .count()
                                      % 1'000'000'000'000;
  int64_t c2 = c1 + 1;
  int64_t minute = 1'765'000'020 - 1'765'000'020 % 60;
  auto clicks = [&](int64_t n) {
    metric_delta d;
    d.window = time_window{minute, minute + 60, window_unit::minute};
    d.type = metric::clicks;
    d.value = n;
    return std::vector<metric_delta>{d};
  };
  variant_delta v;
  v.exp_key = "price";
  v.exp_var = "B";
  v.day = time_window{minute - minute % 86400, minute - minute % 86400 + 86400,
                      window_unit::day};
  v.type = metric::clicks;
  v.value = 4;
  auto w = start(500);
  ASSERT_EQ(figure(w, "commits"), 0);
  using handle = decltype(self->request(w, caf::infinite, write_atom::value,
                                        std::vector<pg_statement>{}));
  std::vector<handle> pending;
  auto send = [&](std::vector<pg_statement> unit) {
    pending.push_back(self->request(w, caf::infinite, write_atom::value, std::move(unit)));
  };
  // Quotes, a backslash, a comma, braces, NULL and non-ASCII travel as text.
  variant_delta odd = v;
  odd.exp_var = "x\"y\\z,{NULL} \xeb\xb3\x80";
  send({dashboard_metrics_add(c2, clicks(3)), variant_metrics_add(c2, {v, odd})});
  send({dashboard_metrics_add(c1, clicks(2))});
  // A window and its successor after passivation: one row, added up once each.
  send({dashboard_metrics_add(c1, clicks(5)), variant_metrics_add(c1, {v})});
  std::vector<size_t> shapes;
  for (auto& h : pending)
    h.receive([&](const pg_results& r) { shapes.push_back(r.size()); },
              [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  EXPECT_EQ(shapes, (std::vector<size_t>{2, 1, 2}));
  EXPECT_EQ(figure(w, "commits"), 1);
  EXPECT_EQ(minute_clicks(c1, minute), 7);
  EXPECT_EQ(minute_clicks(c2, minute), 3);
  // Increments, never overwrites: a later commit adds to the rows.
  auto more = self->request(w, caf::infinite, write_atom::value,
                            std::vector<pg_statement>{dashboard_metrics_add(c1, clicks(1))});
  more.receive([](const pg_results&) {},
               [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  EXPECT_EQ(minute_clicks(c1, minute), 8);
  for (auto c : {c1, c2}) {
    pg_rows rows;
    ASSERT_EQ(conn.query(dashboard_variants(c, "price"), rows), "");
    ASSERT_EQ(rows.size(), c == c1 ? 1u : 2u);
    EXPECT_EQ(rows[0], (pg_row{"B", "CLICKS", "4"}));
    if (c == c2)
      EXPECT_EQ(rows[1], (pg_row{odd.exp_var, "CLICKS", "4"}));
  }
  self->send_exit(w, caf::exit_reason::user_shutdown);
}

}  // namespace
