// The advertiser ledger's failure paths, deterministically: scripted
// PostgreSQL writer and reader actors stand in for the database (a small
// in-memory table of balance and version that commits behave on), so every
// write failure, compare-and-set miss, parked request and deadline is
// exactly the case under test.
#include "actors/business_time.hpp"
#include "actors/errors.hpp"
#include "actors/ledger.hpp"
#include "actors/system_setup.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>
#include <memory>
#include <mutex>

using namespace adserver;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

enum class outcome { commit, fail, cas_miss };

/// What the fake database holds and how its next writes and reads go.
struct fake_db {
  std::mutex mtx;
  int64_t balance = 10'000;
  int64_t version = 1;
  int64_t history_id = 100;
  std::deque<outcome> next_writes;  // empty: commit
  std::atomic<int> writes_seen{0};  // units that reached the writer
  std::atomic<int> commits{0};
  std::atomic<bool> reads_fail{false};
  std::atomic<bool> hold_reads{false};  // answer reads only on release
  void script(std::deque<outcome> writes) {
    std::lock_guard<std::mutex> g{mtx};
    next_writes = std::move(writes);
  }
  void set_row(int64_t new_balance, int64_t new_version) {
    std::lock_guard<std::mutex> g{mtx};
    balance = new_balance;
    version = new_version;
  }
  int64_t stored_balance() {
    std::lock_guard<std::mutex> g{mtx};
    return balance;
  }
};

pg_row advertiser_row(int64_t id, int64_t balance, int64_t version) {
  return {std::to_string(id), "A", "123-45-67890", "a@b.example", "RETAIL", "ACTIVE",
          std::to_string(balance), "t", "", "", "tester", "tester", std::to_string(version)};
}

caf::behavior fake_writer(caf::event_based_actor*, std::shared_ptr<fake_db> db) {
  auto write = [db](std::vector<pg_statement>& unit) -> caf::result<pg_results> {
    std::lock_guard<std::mutex> g{db->mtx};
    ++db->writes_seen;
    auto o = db->next_writes.empty() ? outcome::commit : db->next_writes.front();
    if (!db->next_writes.empty())
      db->next_writes.pop_front();
    if (o == outcome::fail)
      return make_error(ec::unavailable, "database unavailable: scripted");
    auto& stmt = unit.at(0);
    // balance_change_write: $1 advertiser, $2 expected version, $3 before, $4 after.
    auto expected = std::stoll(stmt.params.at(1));
    if (o == outcome::cas_miss || expected != db->version)
      return pg_results{pg_rows{}};
    db->balance = std::stoll(stmt.params.at(3));
    db->version += 1;
    ++db->commits;
    return pg_results{pg_rows{{std::to_string(++db->history_id), stmt.params.at(0),
                               stmt.params.at(2), stmt.params.at(3)}}};
  };
  return {
    [=](write_atom, std::vector<pg_statement>& unit) { return write(unit); },
    [=](write_atom, std::vector<pg_statement>& unit, deadline,
        idempotency_ticket&) { return write(unit); },
  };
}

caf::behavior fake_reader(caf::event_based_actor* self, std::shared_ptr<fake_db> db) {
  auto held = std::make_shared<std::vector<std::pair<caf::response_promise, pg_statement>>>();
  auto answer = [db](const pg_statement& stmt) -> caf::expected<pg_rows> {
    std::lock_guard<std::mutex> g{db->mtx};
    if (db->reads_fail)
      return make_error(ec::unavailable, "database unavailable: scripted");
    if (stmt.name == "advertiser_load")
      return pg_rows{advertiser_row(std::stoll(stmt.params.at(0)), db->balance, db->version)};
    return pg_rows{};
  };
  return {
    [=](query_atom, pg_statement& stmt) -> caf::result<pg_rows> {
      if (!db->hold_reads) {
        auto r = answer(stmt);
        if (!r)
          return r.error();
        return std::move(*r);
      }
      auto promise = self->make_response_promise();
      held->emplace_back(promise, stmt);
      return caf::delegated<pg_rows>{};
    },
    [=](release_atom) {
      for (auto& [promise, stmt] : *held) {
        auto r = answer(stmt);
        if (r)
          promise.deliver(std::move(*r));
        else
          promise.deliver(r.error());
      }
      held->clear();
    },
  };
}

/// Takes every message and says nothing (Redis, Kafka, the directory).
/// (caf::drop would answer each with an error, which ends the sender.)
caf::behavior sink(caf::event_based_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::message{};
    });
  return {[](release_atom) {}};
}

struct config : caf::actor_system_config {
  config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

class LedgerFailures : public ::testing::Test {
protected:
  LedgerFailures() : sys(cfg), self(sys) {}

  ledger_actor start(ledger_settings settings = {}) {
    io.writer = caf::actor_cast<pg_writer_actor>(sys.spawn(fake_writer, db));
    reader = sys.spawn(fake_reader, db);
    io.reader = caf::actor_cast<pg_reader_actor>(reader);
    auto quiet = sys.spawn(sink);
    io.redis = caf::actor_cast<redis_actor>(quiet);
    io.kafka = caf::actor_cast<kafka_actor>(quiet);
    ledger_init init;
    init.advertiser.id = 7;
    init.advertiser.balance = db->balance;
    init.version = db->version;
    settings.idle_seconds = 0;
    auto l = sys.spawn(ledger, init, io, caf::actor_cast<directory_actor>(quiet),
                       caf::actor_cast<auction_router_actor>(quiet), settings);
    l->attach_functor([this](const caf::error& reason) { exit_reason = sys.render(reason); });
    return l;
  }

  /// A charge; the balance after it, or the error code.
  std::pair<int64_t, ec> charge(const ledger_actor& l, int64_t amount, deadline due = {}) {
    std::pair<int64_t, ec> out{0, ec::ok};
    self->request(l, caf::infinite, balance_atom::value, balance_change{"charge", amount, ""},
                  request_meta{"tester", due, {}})
      .receive([&](const balance_change_result& r) { out.first = r.balance_after; },
               [&](const caf::error& err) {
                 out.second = view(err).code;
                 last_error = sys.render(err);
               });
    return out;
  }

  int64_t balance_in_memory(const ledger_actor& l) {
    int64_t out = -1;
    self->request(l, caf::infinite, balance_atom::value)
      .receive([&](const balance_view& v) { out = v.balance; }, [](const caf::error&) {});
    return out;
  }

  config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  std::shared_ptr<fake_db> db = std::make_shared<fake_db>();
  io_handles io;
  caf::actor reader;
  std::string last_error;
  std::string exit_reason;
};

TEST_F(LedgerFailures, AFailedWriteIsNotAppliedAndTheLedgerReReadsTheDatabase) {
  auto l = start();
  db->script({outcome::fail});
  EXPECT_EQ(charge(l, 100).second, ec::unavailable);
  // Memory went back to what the database holds; the next charge applies once.
  EXPECT_EQ(charge(l, 50).first, 10'050) << last_error << " exit: " << exit_reason;
  EXPECT_EQ(db->stored_balance(), 10'050);
  EXPECT_EQ(db->commits, 1);
  EXPECT_EQ(balance_in_memory(l), 10'050);
}

TEST_F(LedgerFailures, ACompareAndSetMissReloadsInsteadOfOverwriting) {
  auto l = start();
  // Someone else committed: the database moved on without this ledger.
  db->set_row(20'000, 5);
  EXPECT_EQ(charge(l, 100).second, ec::unavailable);  // its version was stale
  EXPECT_EQ(charge(l, 100).first, 20'100);            // now on top of the real balance
  EXPECT_EQ(db->stored_balance(), 20'100);
}

TEST_F(LedgerFailures, ParkedRequestsRunOnceAfterTheReloadAndTheBoundRefusesTheRest) {
  ledger_settings settings;
  settings.max_parked = 2;
  auto l = start(settings);
  db->script({outcome::fail});
  db->hold_reads = true;  // the reload waits until released
  EXPECT_EQ(charge(l, 100).second, ec::unavailable);
  // While it recovers: two wait, the third is refused at once.
  std::vector<std::pair<int64_t, ec>> answers(3);
  std::vector<std::unique_ptr<caf::scoped_actor>> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(std::make_unique<caf::scoped_actor>(sys));
  for (int i = 0; i < 3; ++i)
    (*clients[i])->send(l, balance_atom::value, balance_change{"charge", 10 * (i + 1), ""},
                     request_meta{"tester", {}, {}});
  // The refusal comes at once, before the reload is released.
  (*clients[2])->receive([&](const balance_change_result&) { answers[2].second = ec::ok; },
                      [&](const caf::error& err) { answers[2].second = view(err).code; });
  EXPECT_EQ(answers[2].second, ec::unavailable);
  EXPECT_EQ(db->commits, 0);
  db->hold_reads = false;
  caf::anon_send(reader, release_atom::value);
  for (int i = 0; i < 2; ++i)
    (*clients[i])->receive([&](const balance_change_result& r) { answers[i].first = r.balance_after; },
                        [&](const caf::error& err) { answers[i].second = view(err).code; });
  EXPECT_EQ(answers[0].first, 10'010);
  EXPECT_EQ(answers[1].first, 10'030);
  EXPECT_EQ(db->commits, 2);
  EXPECT_EQ(db->stored_balance(), 10'030);
}

TEST_F(LedgerFailures, WorkParkedPastItsDeadlineIsDroppedUnapplied) {
  auto l = start();
  db->script({outcome::fail});
  db->hold_reads = true;
  EXPECT_EQ(charge(l, 100).second, ec::unavailable);
  caf::scoped_actor client{sys};
  client->send(l, balance_atom::value, balance_change{"charge", 500, ""},
               request_meta{"tester", deadline{epoch_millis() + 50}, {}});
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // its client gave up
  int writes_before = db->writes_seen;
  db->hold_reads = false;
  caf::anon_send(reader, release_atom::value);
  ec code = ec::ok;
  client->receive([&](const balance_change_result&) {},
                  [&](const caf::error& err) { code = view(err).code; });
  EXPECT_EQ(code, ec::unavailable);
  EXPECT_EQ(db->writes_seen, writes_before);  // never sent to the database
  EXPECT_EQ(db->stored_balance(), 10'000);
  // A request past its deadline on arrival is dropped too.
  EXPECT_EQ(charge(l, 1, deadline{epoch_millis() - 1}).second, ec::unavailable);
  EXPECT_EQ(db->stored_balance(), 10'000);
}

TEST_F(LedgerFailures, WhileTheDatabaseIsUnreachableRequestsFailFastAndNothingLandsLater) {
  auto l = start();
  db->script({outcome::fail});
  db->reads_fail = true;
  EXPECT_EQ(charge(l, 100).second, ec::unavailable);
  int writes_before = db->writes_seen;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(charge(l, 100).second, ec::unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  }
  EXPECT_EQ(db->writes_seen, writes_before);
  db->reads_fail = false;  // back: after the back-off the ledger serves again
  std::pair<int64_t, ec> r{0, ec::unavailable};
  for (int i = 0; i < 100 && r.second != ec::ok; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = charge(l, 1);
  }
  EXPECT_EQ(r.first, 10'001);
  EXPECT_EQ(db->commits, 1);  // the refused ones never landed
}

}  // namespace
