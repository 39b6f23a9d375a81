// The pg-writer actor against the real PostgreSQL of tools/check: how it
// gathers units into commits, and that nothing it accepted is dropped when it
// stops.
#include "actors/system_setup.hpp"
#include "storage/migrate.hpp"
#include "storage/pg_actors.hpp"
#include "storage/pg_connection.hpp"
#include "storage/statements.hpp"
#include "tests/support/server_process.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

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

  int64_t figure(const pg_writer_actor& w, const std::string& name) {
    int64_t out = -1;
    self->request(w, caf::infinite, status_atom::value)
      .receive(
        [&](const status_record& r) {
          for (auto& [k, v] : r.figures)
            if (k == name)
              out = v;
        },
        [](const caf::error&) {});
    return out;
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
  auto w = start(400);
  using handle = decltype(self->request(w, caf::infinite, write_atom::value,
                                        std::vector<pg_statement>{}));
  std::vector<handle> pending;
  for (int i = 0; i < 20; ++i)
    pending.push_back(self->request(w, caf::infinite, write_atom::value, new_advertiser(i)));
  std::vector<int64_t> ids;
  for (auto& h : pending)
    h.receive([&](const pg_results& r) { ids.push_back(to_int(r.at(0).at(0).at(0))); },
              [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  ASSERT_EQ(ids.size(), 20u);
  for (auto id : ids)
    EXPECT_TRUE(advertiser_exists(id)) << id;
  EXPECT_EQ(figure(w, "commits"), 1);
  EXPECT_EQ(figure(w, "units_committed"), 20);
  EXPECT_EQ(figure(w, "largest_batch"), 20);
  self->send_exit(w, caf::exit_reason::user_shutdown);
}

TEST_F(PgWriter, WithoutLingerEachUnitCommitsAtOnce) {
  auto w = start(0);
  for (int i = 0; i < 3; ++i)
    self->request(w, caf::infinite, write_atom::value, new_advertiser(i))
      .receive([](const pg_results&) {}, [](const caf::error& e) { ADD_FAILURE() << to_string(e); });
  EXPECT_EQ(figure(w, "commits"), 3);
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

}  // namespace
