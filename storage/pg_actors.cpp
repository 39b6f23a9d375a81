#include "storage/pg_actors.hpp"

#include "protocol/business_time.hpp"
#include "protocol/deadline.hpp"
#include "protocol/errors.hpp"
#include "storage/click_merge.hpp"
#include "storage/dashboard_statements.hpp"
#include "storage/io_health.hpp"
#include "storage/pg_connection.hpp"
#include "storage/statements.hpp"

#include <caf/system_messages.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>

namespace adserver::storage {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto max_backoff = milliseconds(5000);
constexpr auto idle_check = std::chrono::seconds(2);
/// How long a stopping writer keeps committing what is queued.
constexpr auto drain_limit = std::chrono::seconds(5);

caf::error expired_error() {
  return make_error(ec::unavailable, "request deadline passed before the write; nothing applied");
}

void fail_all(std::vector<pg_writer_state::pending>& batch, const std::string& why) {
  for (auto& p : batch)
    p.promise.deliver(make_error(ec::unavailable, "database unavailable: " + why));
}

/// An idempotency key already recorded is not a failure of the database.
caf::error unit_error(batch_outcome o, const std::string& sqlstate, const std::string& err) {
  if (o == batch_outcome::statement_failed && sqlstate == "23505"
      && err.find("idempotency key") != std::string::npos)
    return make_error(ec::idempotency_key_reused, "the Idempotency-Key is already recorded",
                      "{\"field\":\"Idempotency-Key\"}");
  if (o == batch_outcome::statement_failed && sqlstate == "23505"
      && err.find("ad_clicks_token_charged") != std::string::npos)
    return make_error(ec::duplicate_click, "this token was charged before");
  return make_error(o == batch_outcome::statement_failed ? ec::internal : ec::unavailable,
                    "database write failed: " + err);
}

/// Commits one batch; what cannot commit together is retried unit by unit, so
/// one bad unit never takes the others down with it.
void commit_batch(pg_writer_state& st, std::vector<pg_writer_state::pending>& batch) {
  std::string err;
  if (!st.link.ensure(err)) {
    st.units_failed += static_cast<int64_t>(batch.size());
    fail_all(batch, err);
    return;
  }
  auto& conn = *st.link.conn;
  std::vector<const std::vector<pg_statement>*> units;
  std::vector<const idempotency_ticket*> tickets;
  units.reserve(batch.size());
  tickets.reserve(batch.size());
  for (auto& p : batch) {
    units.push_back(&p.unit);
    tickets.push_back(&p.ticket);
  }
  std::vector<pg_results> out;
  auto started = steady_clock::now();
  // Many ledgers' clicks go as one statement (a failure is retried unit by
  // unit below, as the ledgers wrote them).
  auto plan = merge_units(units, tickets);
  auto outcome = conn.run_batch(plan.units, plan.tickets, out, err);
  std::vector<bool> doubtful;
  if (outcome == batch_outcome::committed)
    out = split_merged_results(plan, out, batch.size(), doubtful);
  // The commit metrics describe the money writer's commits.
  bool money = st.settings.role == writer_role::money;
  if (outcome == batch_outcome::committed) {
    st.link.last_ok = steady_clock::now();
    if (money)
      telemetry().record_commit(std::chrono::duration<double>(st.link.last_ok - started).count(),
                                static_cast<int64_t>(batch.size()));
    ++st.commits;
    st.units_committed += static_cast<int64_t>(batch.size());
    st.largest_batch = std::max<int64_t>(st.largest_batch, static_cast<int64_t>(batch.size()));
    for (size_t i = 0; i < batch.size(); ++i) {
      if (doubtful[i])
        batch[i].promise.deliver(make_error(
          ec::unavailable, "the database's answer to a committed write did not match it; "
                           "outcome unknown", "{\"outcome\":\"unknown\"}"));
      else
        batch[i].promise.deliver(std::move(out[i]));
    }
    return;
  }
  if (money)
    telemetry().pg_commit_failures.fetch_add(1, std::memory_order_relaxed);
  else if (st.settings.role == writer_role::counters)
    telemetry().pg_counters_commit_failures.fetch_add(1, std::memory_order_relaxed);
  if (outcome == batch_outcome::connection_failed) {
    st.link.lost(err);
    st.units_failed += static_cast<int64_t>(batch.size());
    // The connection broke while the batch was under way: if the COMMIT
    // reached the server the changes are in, and only a re-read can tell.
    for (auto& p : batch)
      p.promise.deliver(make_error(
        ec::unavailable, "database connection lost during the write; outcome unknown: " + err,
        "{\"outcome\":\"unknown\"}"));
    return;
  }
  for (auto& p : batch) {
    // The failed batch took time: what is past its deadline now is dropped
    // unrun (its client has its 503), never committed on the retry.
    if (passed(p.due)) {
      ++st.units_expired;
      p.promise.deliver(expired_error());
      continue;
    }
    std::vector<pg_results> one;
    std::string unit_err;
    auto o = conn.connected() ? conn.run_batch({&p.unit}, {&p.ticket}, one, unit_err)
                              : batch_outcome::connection_failed;
    if (o == batch_outcome::committed) {
      ++st.commits;
      ++st.units_committed;
      p.promise.deliver(std::move(one[0]));
    } else {
      if (o == batch_outcome::connection_failed)
        st.link.lost(unit_err.empty() ? "connection lost" : unit_err);
      ++st.units_failed;
      p.promise.deliver(o == batch_outcome::connection_failed && !unit_err.empty()
                          ? make_error(ec::unavailable,
                                       "database connection lost during the write; outcome "
                                       "unknown: " + unit_err,
                                       "{\"outcome\":\"unknown\"}")
                          : unit_error(o, conn.last_sqlstate(), unit_err));
    }
  }
}

/// The order counters units take their row locks in: by first statement,
/// then its first parameter (a placement id; shorter numbers are smaller).
/// Dashboard units sort together whatever their first statement: they become
/// one statement (merge_units), which orders its own rows.
bool in_lock_order(const pg_writer_state::pending& a, const pg_writer_state::pending& b) {
  static const pg_statement none;
  auto& x = a.unit.empty() ? none : a.unit.front();
  auto& y = b.unit.empty() ? none : b.unit.front();
  bool dx = dashboard_unit_mergeable(a.unit), dy = dashboard_unit_mergeable(b.unit);
  if (dx != dy)
    return dx;  // dashboards first
  if (dx)
    return false;  // among themselves as they came
  if (x.name != y.name)
    return x.name < y.name;
  static const std::string no_param;
  auto& p = x.params.empty() ? no_param : x.params.front();
  auto& q = y.params.empty() ? no_param : y.params.front();
  return p.size() != q.size() ? p.size() < q.size() : p < q;
}

/// Commits up to max_batch_units of the queue as one transaction.
void commit_next_batch(pg_writer_state& st) {
  std::vector<pg_writer_state::pending> batch;
  size_t n = std::min(st.queue.size(), st.settings.max_batch_units);
  batch.reserve(n);
  // Work whose deadline passed while it waited is dropped unrun: its
  // client has been (or is being) told it failed.
  auto now = epoch_millis();
  for (size_t i = 0; i < n; ++i) {
    auto& p = st.queue[i];
    if (passed(p.due, now)) {
      ++st.units_expired;
      p.promise.deliver(expired_error());
    } else {
      batch.push_back(std::move(p));
    }
  }
  st.queue.erase(st.queue.begin(), st.queue.begin() + n);
  // Counters are increments of rows other nodes increment too: every node
  // takes their row locks in one order (in_lock_order), so two nodes' large
  // batches wait for each other rather than deadlock.
  if (st.settings.role == writer_role::counters)
    std::stable_sort(batch.begin(), batch.end(), in_lock_order);
  if (!batch.empty())
    commit_batch(st, batch);
}

/// `waited`: a full batch is queued already, no point lingering.
void schedule_flush(pg_writer_actor::stateful_pointer<pg_writer_state> self,
                    bool waited = false) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  st.flush_scheduled = true;
  // Without a linger the flush message queues up behind everything already
  // in the mailbox, so one commit takes all writes that arrived during the
  // previous one; with one, all that arrive within the linger.
  if (waited || st.settings.linger_ms <= 0)
    self->send(self, flush_atom::value);
  else
    self->delayed_send(self, milliseconds(st.settings.linger_ms), flush_atom::value);
}

caf::result<pg_results> enqueue(pg_writer_actor::stateful_pointer<pg_writer_state> self,
                                std::vector<pg_statement>& unit, deadline due,
                                idempotency_ticket ticket) {
  auto& st = self->state;
  if (st.queue.size() >= st.settings.max_queued_units) {
    ++st.units_refused;
    return make_error(ec::unavailable, "database writer overloaded; retry");
  }
  if (st.link.down && steady_clock::now() < st.link.retry_at) {
    // Fail fast: the database was unreachable moments ago.
    ++st.units_failed;
    return make_error(ec::unavailable, "database unavailable: " + st.link.last_error);
  }
  auto promise = self->make_response_promise<pg_results>();
  st.queue.push_back({std::move(unit), promise, due, std::move(ticket)});
  if (st.settings.linger_ms > 0 && st.queue.size() == st.settings.max_batch_units)
    self->send(self, flush_atom::value);  // a full batch need not wait out the linger
  else
    schedule_flush(self);
  return promise;
}

void set_flag(std::atomic<bool>* flag, bool up) {
  if (flag)
    flag->store(up, std::memory_order_relaxed);
}

}  // namespace

void pg_link::open(const pg_settings& settings, std::atomic<bool>* flag, bool generic_plans) {
  conn = std::make_shared<pg_connection>(settings.conninfo, settings.time_zone,
                                         settings.statement_timeout_ms);
  conn->use_generic_plans(generic_plans);
  up_flag = flag;
  std::string ignored;
  ensure(ignored);  // connected at start when the database is there; else backing off
}

bool pg_link::ensure(std::string& err) {
  if (conn->connected())
    return true;
  auto now = steady_clock::now();
  if (down && now < retry_at) {
    err = last_error.empty() ? "database unavailable" : last_error;
    return false;
  }
  err = conn->connect();
  if (err.empty()) {
    if (down)
      ++reconnects;
    down = false;
    backoff = milliseconds(100);
    last_ok = now;
    set_flag(up_flag, true);
    return true;
  }
  down = true;
  last_error = err;
  retry_at = now + backoff;
  backoff = std::min(backoff * 2, max_backoff);
  set_flag(up_flag, false);
  return false;
}

void pg_link::lost(const std::string& why) {
  conn->close();
  last_error = why;
  // Reconnect at once on next use (a restarted server), back off after that.
  down = true;
  retry_at = steady_clock::now();
  set_flag(up_flag, false);
}

void pg_link::tick() {
  std::string err;
  if (!conn->connected()) {
    ensure(err);
    return;
  }
  if (steady_clock::now() - last_ok < idle_check)
    return;
  err = conn->ping();
  if (err.empty())
    last_ok = steady_clock::now();
  else
    lost(err);
}

pg_writer_actor::behavior_type
pg_writer(pg_writer_actor::stateful_pointer<pg_writer_state> self, pg_settings settings) {
  auto& st = self->state;
  st.settings = settings;
  std::atomic<bool>* up = nullptr;
  if (settings.health && settings.role == writer_role::money)
    up = &settings.health->postgres_writer;
  else if (settings.health && settings.role == writer_role::counters)
    up = &settings.health->postgres_counters;
  // The money writer's statements are keyed writes: planned once.
  st.link.open(settings, up, settings.role == writer_role::money);
  self->send(self, poll_atom::value);
  // What waits for a lingering commit is written before the writer stops,
  // within a bound: a hung database must not hold the stop for minutes, and
  // what was never sent is plainly not written.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    auto give_up = steady_clock::now() + drain_limit;
    while (!st.queue.empty() && steady_clock::now() < give_up)
      commit_next_batch(st);
    st.units_failed += static_cast<int64_t>(st.queue.size());
    for (auto& p : st.queue)
      p.promise.deliver(make_error(ec::unavailable, "database writer stopped; nothing applied"));
    st.queue.clear();
    self->quit(msg.reason);
  });
  return {
    [=](write_atom, std::vector<pg_statement>& unit) -> caf::result<pg_results> {
      return enqueue(self, unit, deadline{}, idempotency_ticket{});
    },
    [=](write_atom, std::vector<pg_statement>& unit, deadline due,
        idempotency_ticket& ticket) -> caf::result<pg_results> {
      if (passed(due)) {
        ++self->state.units_expired;
        return expired_error();
      }
      return enqueue(self, unit, due, std::move(ticket));
    },
    [=](flush_atom) {
      self->state.census.sample(self->mailbox().size());
      self->state.flush_scheduled = false;
      commit_next_batch(self->state);
      if (!self->state.queue.empty())
        schedule_flush(self, self->state.queue.size() >= self->state.settings.max_batch_units);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (st.queue.empty())
        st.link.tick();
      // Expired idempotency keys go now and then (every ~10 minutes).
      if (++st.ticks % 600 == 0 && st.settings.role == writer_role::money
          && st.link.conn->connected()) {
        pg_rows ignored;
        st.link.conn->query(idempotency_expire(), ignored);
      }
      self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "pg-writer";
      r.figures = {{"connected", st.link.conn->connected() ? 1 : 0},
                   {"down", st.link.down ? 1 : 0},
                   {"reconnects", st.link.reconnects},
                   {"commits", st.commits},
                   {"units_committed", st.units_committed},
                   {"units_failed", st.units_failed},
                   {"units_expired", st.units_expired},
                   {"units_refused", st.units_refused},
                   {"largest_batch", st.largest_batch},
                   {"queued", static_cast<int64_t>(st.queue.size())}};
      if (!st.link.last_error.empty())
        r.info["last_error"] = st.link.last_error;
      return r;
    },
  };
}

pg_reader_actor::behavior_type
pg_reader(pg_reader_actor::stateful_pointer<pg_reader_state> self, pg_settings settings) {
  auto& st = self->state;
  st.settings = settings;
  st.link.open(settings, settings.health ? &settings.health->postgres_reader : nullptr);
  self->send(self, poll_atom::value);
  return {
    [=](query_atom, const pg_statement& stmt) -> caf::result<pg_rows> {
      auto& st = self->state;
      ++st.queries;
      // One retry covers a connection the server dropped since the last query.
      for (int attempt = 0; attempt < 2; ++attempt) {
        std::string err;
        if (!st.link.ensure(err)) {
          ++st.failures;
          return make_error(ec::unavailable, "database unavailable: " + err);
        }
        pg_rows rows;
        err = st.link.conn->query(stmt, rows);
        if (err.empty()) {
          st.link.last_ok = steady_clock::now();
          return rows;
        }
        if (st.link.conn->connected()) {
          ++st.failures;
          return make_error(ec::internal, "database read failed: " + err);
        }
        st.link.lost(err);
      }
      ++st.failures;
      return make_error(ec::unavailable, "database unavailable");
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      self->state.link.tick();
      self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "pg-reader";
      // As last seen: a status request never waits for the database.
      bool ready = st.link.conn->connected() && !st.link.down;
      r.figures = {{"ready", ready ? 1 : 0},
                   {"reconnects", st.link.reconnects},
                   {"queries", st.queries},
                   {"failures", st.failures}};
      if (!ready)
        r.info["why"] = "database unavailable: " + st.link.last_error;
      return r;
    },
  };
}

}  // namespace adserver::storage
