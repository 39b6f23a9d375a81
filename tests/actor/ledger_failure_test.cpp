// The advertiser ledger's failure paths, deterministically: scripted
// PostgreSQL writer and reader actors stand in for the database (a small
// in-memory table of balance and version that commits behave on), so every
// write failure, compare-and-set miss, parked request and deadline is
// exactly the case under test.
#include "actors/ledger.hpp"
#include "actors/system_setup.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "tests/support/status_figure.hpp"

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

enum class outcome { commit, fail, cas_miss, duplicate };

/// What the fake database holds and how its next writes and reads go.
struct fake_db {
  std::mutex mtx;
  int64_t balance = 10'000;
  int64_t version = 1;
  int64_t history_id = 100;
  int64_t lease_epoch = 3;  // the epoch the ledger under test holds
  std::string lease_node = "local";
  std::deque<outcome> next_writes;  // empty: commit
  std::atomic<int> writes_seen{0};  // units that reached the writer
  std::atomic<int> commits{0};
  std::atomic<bool> reads_fail{false};
  std::atomic<bool> hold_reads{false};  // answer reads only on release
  std::atomic<bool> hold_writes{false};  // answer click writes only on release
  std::vector<size_t> click_batches;     // clicks per click statement, in order
  int64_t last_charge_age = 0;           // pair_last_charge_age's answer (-1: none)
  std::vector<std::string> age_asked;    // its parameters
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
  /// Another node takes the lease (as ledger_lease_acquire would).
  void lease_taken_by(const std::string& node) {
    std::lock_guard<std::mutex> g{mtx};
    lease_node = node;
    lease_epoch += 1;
  }
};

pg_row advertiser_row(int64_t id, int64_t balance, int64_t version) {
  return {std::to_string(id), "A", "123-45-67890", "a@b.example", "RETAIL", "ACTIVE",
          std::to_string(balance), "t", "", "", "tester", "tester", std::to_string(version)};
}

/// click_charge: $2 expected version, $3 balance before, $4 after, $5 clicks.
caf::expected<pg_results> click_write(fake_db& db, const pg_statement& stmt, outcome o) {
  auto count = std::stoll(stmt.params.at(4));
  db.click_batches.push_back(static_cast<size_t>(count));
  if (o == outcome::fail)
    return make_error(ec::unavailable, "database unavailable: scripted");
  if (o == outcome::duplicate)
    return make_error(ec::duplicate_click, "this token was charged before");
  if (o == outcome::cas_miss || std::stoll(stmt.params.at(1)) != db.version
      || std::stoll(stmt.params.at(2)) != db.balance
      || std::stoll(stmt.params.at(20)) != db.lease_epoch)
    return pg_results{pg_rows{}};
  db.balance = std::stoll(stmt.params.at(3));
  db.version += count;
  ++db.commits;
  pg_rows ids;
  for (int64_t i = 0; i < count; ++i)
    ids.push_back({std::to_string(++db.history_id)});
  return pg_results{ids};
}

caf::behavior fake_writer(caf::event_based_actor* self, std::shared_ptr<fake_db> db) {
  auto write = [db](std::vector<pg_statement>& unit) -> caf::expected<pg_results> {
    std::lock_guard<std::mutex> g{db->mtx};
    auto& stmt = unit.at(0);
    if (stmt.name == "click_record")
      return pg_results{pg_rows{}};  // an unbilled click: no money
    if (stmt.name == "ledger_lease_release") {
      if (std::stoll(stmt.params.at(1)) == db->lease_epoch)
        db->lease_node.clear();
      return pg_results{pg_rows{}};
    }
    ++db->writes_seen;
    auto o = db->next_writes.empty() ? outcome::commit : db->next_writes.front();
    if (!db->next_writes.empty())
      db->next_writes.pop_front();
    if (stmt.name == "click_charge")
      return click_write(*db, stmt, o);
    if (o == outcome::fail)
      return make_error(ec::unavailable, "database unavailable: scripted");
    // balance_change_write: $1 advertiser, $2 expected version, $3 before, $4 after,
    // $9 lease epoch.
    auto expected = std::stoll(stmt.params.at(1));
    if (o == outcome::cas_miss || expected != db->version
        || std::stoll(stmt.params.at(8)) != db->lease_epoch)
      return pg_results{pg_rows{}};
    db->balance = std::stoll(stmt.params.at(3));
    db->version += 1;
    ++db->commits;
    return pg_results{pg_rows{{std::to_string(++db->history_id), stmt.params.at(0),
                               stmt.params.at(2), stmt.params.at(3)}}};
  };
  // Held writes are answered in order on release (a commit in flight).
  auto held = std::make_shared<std::vector<std::pair<caf::response_promise,
                                                     std::vector<pg_statement>>>>();
  auto handle = [=](std::vector<pg_statement>& unit) -> caf::result<pg_results> {
    if (db->hold_writes && unit.at(0).name == "click_charge") {
      auto promise = self->make_response_promise();
      held->emplace_back(promise, unit);
      return caf::delegated<pg_results>{};
    }
    auto r = write(unit);
    if (!r)
      return r.error();
    return std::move(*r);
  };
  return {
    [=](write_atom, std::vector<pg_statement>& unit) { return handle(unit); },
    [=](write_atom, std::vector<pg_statement>& unit, deadline,
        idempotency_ticket&) { return handle(unit); },
    [=](release_atom) {
      db->hold_writes = false;
      for (auto& [promise, unit] : *held) {
        auto r = write(unit);
        if (r)
          promise.deliver(std::move(*r));
        else
          promise.deliver(r.error());
      }
      held->clear();
    },
  };
}

caf::behavior fake_reader(caf::event_based_actor* self, std::shared_ptr<fake_db> db) {
  auto held = std::make_shared<std::vector<std::pair<caf::response_promise, pg_statement>>>();
  auto answer = [db](const pg_statement& stmt) -> caf::expected<pg_rows> {
    std::lock_guard<std::mutex> g{db->mtx};
    if (db->reads_fail)
      return make_error(ec::unavailable, "database unavailable: scripted");
    if (stmt.name == "ledger_lease_read")
      return pg_rows{{db->lease_node, std::to_string(db->lease_epoch)}};
    if (stmt.name == "advertiser_load")
      return pg_rows{advertiser_row(std::stoll(stmt.params.at(0)), db->balance, db->version)};
    if (stmt.name == "pair_last_charge_age") {
      db->age_asked = stmt.params;
      return pg_rows{{std::to_string(db->last_charge_age)}};
    }
    if (stmt.name == "ledger_campaigns")  // campaign 70: serving, large budgets
      return pg_rows{{"70", "100000000", "100000000", "0", "0", "100", "ACTIVE", "", "",
                      "ACCELERATED"}};
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
    init.lease_epoch = db->lease_epoch;
    campaign_spend c;
    c.campaign_id = 70;
    c.daily_budget = c.total_budget = 100'000'000;
    c.max_bid = 100;
    c.day = business_today();
    init.campaigns.push_back(c);
    settings.idle_seconds = 0;
    writer = caf::actor_cast<caf::actor>(io.writer);
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

  /// Sends a click on campaign 70 at `price` for device `n` (fresh token).
  void send_click(caf::scoped_actor& client, const ledger_actor& l, int n, int64_t price,
                  deadline due = {}, const std::string& request_id = {}) {
    click_request click;
    click.due = due;
    click.ad.request_id = request_id.empty() ? "req-" + std::to_string(n) : request_id;
    click.ad.ad_id = "ad_70";
    click.ad.campaign_id = 70;
    click.ad.advertiser_id = 7;
    click.ad.price = price;
    click.ad.bid = 100;
    click.ad.device_id = "device-" + std::to_string(n);
    client->send(l, click_atom::value, click);
  }

  int64_t ledger_figure(const ledger_actor& a, const std::string& name) {
    return adserver::testing::status_figure(self, a, name);
  }

  /// A click's outcome: "charged", the refusal reason, or the error.
  std::string click_outcome(const ledger_actor& l, int n, int64_t price,
                            const std::string& request_id = {}) {
    caf::scoped_actor client{sys};
    send_click(client, l, n, price, {}, request_id);
    std::string out;
    client->receive([&](const click_result& r) { out = r.charged ? "charged" : r.reason; },
                    [&](const caf::error& err) { out = sys.render(err); });
    return out;
  }

  /// Waits (at most 2 s) until the ledger has read back another node's charge time.
  void await_charge_time(const ledger_actor& l) {
    for (int i = 0; i < 400 && ledger_figure(l, "others_charges_timed") < 1; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(ledger_figure(l, "others_charges_timed"), 1);
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
  caf::actor writer;
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

TEST_F(LedgerFailures, AfterAnotherNodeTookTheLeaseNothingIsCharged) {
  auto l = start();
  EXPECT_EQ(charge(l, 100).first, 10'100);
  // A partition: another node found this one dead and took the lease; this
  // ledger still believes it owns the advertiser.
  db->lease_taken_by("node-b");
  EXPECT_EQ(charge(l, 100).second, ec::unavailable) << "the database refused the stale epoch";
  // A click is refused too (or, once the ledger has stopped, never reaches it).
  click_request click;
  click.ad.request_id = "req-lease";
  click.ad.ad_id = "ad_70";
  click.ad.campaign_id = 70;
  click.ad.advertiser_id = 7;
  click.ad.price = 50;
  click.ad.bid = 100;
  click.ad.device_id = "device-lease";
  self->request(l, std::chrono::seconds(5), click_atom::value, click)
    .receive([](const click_result&) { ADD_FAILURE() << "a click was charged"; },
             [](const caf::error&) {});
  EXPECT_EQ(db->stored_balance(), 10'100);
  EXPECT_EQ(db->commits, 1);
  // The ledger stops, and its release does not free the new holder's lease.
  for (int i = 0; i < 100 && exit_reason.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(exit_reason.empty()) << "the ledger kept running without its lease";
  std::lock_guard<std::mutex> g{db->mtx};
  EXPECT_EQ(db->lease_node, "node-b");
}

TEST_F(LedgerFailures, APassivatedLedgerFreesItsLease) {
  auto l = start();
  EXPECT_EQ(charge(l, 100).first, 10'100);
  caf::anon_send(l, retire_atom::value);
  for (int i = 0; i < 100 && exit_reason.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(exit_reason.empty());
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> g{db->mtx};
      if (db->lease_node.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard<std::mutex> g{db->mtx};
  EXPECT_EQ(db->lease_node, "") << "the next owner would wait for the lease to expire";
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

TEST_F(LedgerFailures, ClicksArrivingDuringACommitAreWrittenAsOneStatement) {
  auto l = start();
  db->hold_writes = true;  // the first click's commit stays in flight
  std::vector<std::unique_ptr<caf::scoped_actor>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<caf::scoped_actor>(sys));
    send_click(*clients.back(), l, i, 10);
  }
  // All five are applied in memory before anything commits.
  for (int i = 0; i < 200 && balance_in_memory(l) != 10'000 - 50; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(balance_in_memory(l), 10'000 - 50);
  caf::anon_send(writer, release_atom::value);
  std::vector<int64_t> remaining;
  for (auto& c : clients)
    (*c)->receive([&](const click_result& r) { remaining.push_back(r.charged ? r.remaining_balance : -1); },
                  [&](const caf::error& err) { remaining.push_back(-2); last_error = sys.render(err); });
  EXPECT_EQ(remaining, (std::vector<int64_t>{9'990, 9'980, 9'970, 9'960, 9'950})) << last_error;
  // One statement for the first, one for the four that queued behind it.
  EXPECT_EQ(db->click_batches, (std::vector<size_t>{1, 4}));
  EXPECT_EQ(db->stored_balance(), 9'950);
  EXPECT_EQ(db->version, 1 + 5);
}

TEST_F(LedgerFailures, ADuplicateInABatchIsFoundByWritingItsClicksAlone) {
  auto l = start();
  db->hold_writes = true;
  // First click commits; the batch of three meets a token another node
  // charged; written alone, the second of them is that duplicate.
  db->script({outcome::commit, outcome::duplicate, outcome::commit, outcome::duplicate,
              outcome::commit});
  std::vector<std::unique_ptr<caf::scoped_actor>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<caf::scoped_actor>(sys));
    send_click(*clients.back(), l, i, 10);
  }
  for (int i = 0; i < 200 && balance_in_memory(l) != 10'000 - 40; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  caf::anon_send(writer, release_atom::value);
  std::vector<std::string> outcomes;
  for (auto& c : clients)
    (*c)->receive(
      [&](const click_result& r) { outcomes.push_back(r.charged ? "charged" : r.reason); },
      [&](const caf::error& err) { outcomes.push_back(sys.render(err)); });
  EXPECT_EQ(outcomes,
            (std::vector<std::string>{"charged", "charged", "DUPLICATE_CLICK", "charged"}));
  EXPECT_EQ(db->click_batches, (std::vector<size_t>{1, 3, 1, 1, 1}));
  EXPECT_EQ(db->stored_balance(), 10'000 - 30);
  EXPECT_EQ(balance_in_memory(l), 10'000 - 30);
}

TEST_F(LedgerFailures, ATokenAnotherNodeChargedKeepsItsAdAndDeviceMarkedForTheHour) {
  auto l = start();
  // PostgreSQL says another node charged this token: that node charged ad_70
  // for device-1 ten minutes ago, so another token for the same pair within
  // the hour is a duplicate too, refused without a write.
  db->last_charge_age = 600;
  db->script({outcome::duplicate});
  ASSERT_EQ(click_outcome(l, 1, 10), "DUPLICATE_CLICK");
  await_charge_time(l);
  {
    std::lock_guard<std::mutex> g{db->mtx};
    EXPECT_EQ(db->age_asked, (std::vector<std::string>{"device-1", "ad_70", "3600"}));
  }
  auto writes = db->click_batches.size();
  auto reason = click_outcome(l, 1, 10, "req-1-another-request");
  EXPECT_EQ(reason, "DUPLICATE_CLICK");
  EXPECT_EQ(db->click_batches.size(), writes);
  EXPECT_EQ(balance_in_memory(l), 10'000);
}

TEST_F(LedgerFailures, AnAdAndDeviceAnotherNodeChargedAreRefusedUntilAnHourAfterThatCharge) {
  auto l = start();
  // The other node's charge was 3,594 s ago: the pair's hour ends in 6 s,
  // not an hour after this node learned of it (6 s leave a slow machine room
  // for the second click to come before the end).
  db->last_charge_age = 3594;
  db->script({outcome::duplicate, outcome::commit});
  ASSERT_EQ(click_outcome(l, 1, 10), "DUPLICATE_CLICK");
  await_charge_time(l);
  EXPECT_EQ(click_outcome(l, 1, 10, "req-1-second"), "DUPLICATE_CLICK");
  std::this_thread::sleep_for(std::chrono::seconds(7));
  EXPECT_EQ(click_outcome(l, 1, 10, "req-1-third"), "charged");
  EXPECT_EQ(db->stored_balance(), 10'000 - 10);
}

TEST_F(LedgerFailures, AnAdAndDeviceAnotherNodeChargedOverAnHourAgoMayBeChargedAgain) {
  auto l = start();
  // The other node's charge was over an hour ago (the database has no
  // charge of the pair within the hour); this node learns of it only now.
  // The pair's hour ran from that charge, so it is over.
  db->last_charge_age = -1;
  db->script({outcome::duplicate, outcome::commit});
  ASSERT_EQ(click_outcome(l, 1, 10), "DUPLICATE_CLICK");
  await_charge_time(l);
  {
    std::lock_guard<std::mutex> g{db->mtx};
    EXPECT_EQ(db->age_asked, (std::vector<std::string>{"device-1", "ad_70", "3600"}));
  }
  auto reason = click_outcome(l, 1, 10, "req-1-another-request");
  EXPECT_EQ(reason, "charged");
  EXPECT_EQ(db->stored_balance(), 10'000 - 10);
  EXPECT_EQ(balance_in_memory(l), 10'000 - 10);
}

TEST_F(LedgerFailures, AFailedBatchChargesNoneOfItsClicks) {
  auto l = start();
  db->hold_writes = true;
  db->script({outcome::commit, outcome::fail});
  std::vector<std::unique_ptr<caf::scoped_actor>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<caf::scoped_actor>(sys));
    send_click(*clients.back(), l, i, 10);
  }
  for (int i = 0; i < 200 && balance_in_memory(l) != 10'000 - 30; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  caf::anon_send(writer, release_atom::value);
  std::vector<std::string> outcomes;
  for (auto& c : clients)
    (*c)->receive([&](const click_result& r) { outcomes.push_back(r.charged ? "charged" : r.reason); },
                  [&](const caf::error& err) { outcomes.push_back(sys.render(err)); });
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0], "charged");
  EXPECT_NE(outcomes[1], "charged");
  EXPECT_NE(outcomes[2], "charged");
  EXPECT_EQ(db->stored_balance(), 10'000 - 10);
  // The ledger re-read: memory is the database's again, and a retry charges.
  caf::scoped_actor retry{sys};
  send_click(retry, l, 1, 10);
  int64_t after = 0;
  retry->receive([&](const click_result& r) { after = r.remaining_balance; },
                 [&](const caf::error& err) { last_error = sys.render(err); });
  EXPECT_EQ(after, 10'000 - 20) << last_error;
  EXPECT_EQ(db->stored_balance(), 10'000 - 20);
}

TEST_F(LedgerFailures, AClickThatExpiredInTheQueueIsNotWrittenAndTheOthersAreJudgedAgain) {
  auto l = start();
  db->hold_writes = true;
  caf::scoped_actor first{sys}, late{sys}, last{sys};
  send_click(first, l, 1, 10);
  send_click(late, l, 2, 10, deadline{epoch_millis() + 50});
  send_click(last, l, 3, 10);
  for (int i = 0; i < 200 && balance_in_memory(l) != 10'000 - 30; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // click 2's client gave up
  caf::anon_send(writer, release_atom::value);
  auto outcome = [&](caf::scoped_actor& c) {
    std::string out;
    c->receive([&](const click_result& r) { out = r.charged ? std::to_string(r.remaining_balance) : r.reason; },
               [&](const caf::error& err) { out = to_code(view(err).code); });
    return out;
  };
  EXPECT_EQ(outcome(first), "9990");
  EXPECT_EQ(outcome(late), "UNAVAILABLE");
  EXPECT_EQ(outcome(last), "9980");
  // Click 2 was never written; click 3 was judged again on the re-read state.
  EXPECT_EQ(db->click_batches, (std::vector<size_t>{1, 1}));
  EXPECT_EQ(db->stored_balance(), 9'980);
}
