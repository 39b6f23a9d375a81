#include "storage/pg_actors.hpp"

#include "actors/errors.hpp"
#include "storage/migrate.hpp"
#include "storage/pg_connection.hpp"

#include <caf/typed_response_promise.hpp>

namespace adserver::storage {

namespace {

bool ensure_connected(pg_connection& conn, std::string& err) {
  if (conn.connected())
    return true;
  err = conn.connect();
  return err.empty();
}

void fail_all(std::vector<pg_writer_state::pending>& batch, const std::string& why) {
  for (auto& p : batch)
    p.promise.deliver(make_error(ec::unavailable, "database unavailable: " + why));
}

/// Commits one batch; what cannot commit together is retried unit by unit, so
/// one bad unit never takes the others down with it.
void commit_batch(pg_writer_state& st, std::vector<pg_writer_state::pending>& batch) {
  std::string err;
  if (!ensure_connected(*st.conn, err)) {
    st.units_failed += static_cast<int64_t>(batch.size());
    fail_all(batch, err);
    return;
  }
  std::vector<const std::vector<pg_statement>*> units;
  units.reserve(batch.size());
  for (auto& p : batch)
    units.push_back(&p.unit);
  std::vector<pg_results> out;
  auto outcome = st.conn->run_batch(units, out, err);
  if (outcome == batch_outcome::committed) {
    ++st.commits;
    st.units_committed += static_cast<int64_t>(batch.size());
    st.largest_batch = std::max<int64_t>(st.largest_batch, static_cast<int64_t>(batch.size()));
    for (size_t i = 0; i < batch.size(); ++i)
      batch[i].promise.deliver(std::move(out[i]));
    return;
  }
  if (outcome == batch_outcome::connection_failed) {
    st.units_failed += static_cast<int64_t>(batch.size());
    fail_all(batch, err);
    return;
  }
  for (auto& p : batch) {
    std::vector<pg_results> one;
    std::string unit_err;
    auto o = st.conn->run_batch({&p.unit}, one, unit_err);
    if (o == batch_outcome::committed) {
      ++st.commits;
      ++st.units_committed;
      p.promise.deliver(std::move(one[0]));
    } else {
      ++st.units_failed;
      p.promise.deliver(make_error(o == batch_outcome::statement_failed ? ec::internal
                                                                        : ec::unavailable,
                                   "database write failed: " + unit_err));
    }
  }
}

}  // namespace

pg_writer_actor::behavior_type
pg_writer(pg_writer_actor::stateful_pointer<pg_writer_state> self, pg_settings settings) {
  self->state.settings = settings;
  self->state.conn = std::make_shared<pg_connection>(settings.conninfo, settings.time_zone);
  return {
    [=](write_atom, std::vector<pg_statement>& unit) -> caf::result<pg_results> {
      auto promise = self->make_response_promise<pg_results>();
      self->state.queue.push_back({std::move(unit), promise});
      // The flush message queues up behind everything already in the mailbox,
      // so one commit takes all writes that arrived during the previous one.
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return promise;
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.flush_scheduled = false;
      std::vector<pg_writer_state::pending> batch;
      size_t n = std::min(st.queue.size(), st.settings.max_batch_units);
      batch.assign(std::make_move_iterator(st.queue.begin()),
                   std::make_move_iterator(st.queue.begin() + n));
      st.queue.erase(st.queue.begin(), st.queue.begin() + n);
      if (!batch.empty())
        commit_batch(st, batch);
      if (!st.queue.empty() && !st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
    },
    [=](status_atom) {
      auto& st = self->state;
      status_record r;
      r.kind = "pg-writer";
      r.figures = {{"connected", st.conn->connected() ? 1 : 0},
                   {"commits", st.commits},
                   {"units_committed", st.units_committed},
                   {"units_failed", st.units_failed},
                   {"largest_batch", st.largest_batch},
                   {"queued", static_cast<int64_t>(st.queue.size())}};
      return r;
    },
  };
}

pg_reader_actor::behavior_type
pg_reader(pg_reader_actor::stateful_pointer<pg_reader_state> self, pg_settings settings) {
  self->state.settings = settings;
  self->state.conn = std::make_shared<pg_connection>(settings.conninfo, settings.time_zone);
  return {
    [=](query_atom, const pg_statement& stmt) -> caf::result<pg_rows> {
      auto& st = self->state;
      ++st.queries;
      // One retry covers a connection the server dropped since the last query.
      for (int attempt = 0; attempt < 2; ++attempt) {
        std::string err;
        if (!ensure_connected(*st.conn, err)) {
          ++st.failures;
          return make_error(ec::unavailable, "database unavailable: " + err);
        }
        pg_rows rows;
        err = st.conn->query(stmt, rows);
        if (err.empty())
          return rows;
        if (st.conn->connected()) {
          ++st.failures;
          return make_error(ec::internal, "database read failed: " + err);
        }
      }
      ++st.failures;
      return make_error(ec::unavailable, "database unavailable");
    },
    [=](status_atom) {
      auto& st = self->state;
      status_record r;
      r.kind = "pg-reader";
      // Ready = this connection answers and every migration is recorded.
      std::string why;
      pg_rows rows;
      if (ensure_connected(*st.conn, why))
        why = st.conn->query({"migrations_applied", {}}, rows);
      if (!why.empty()) {
        why = "database unavailable: " + why;
      } else {
        std::vector<std::string> applied;
        for (auto& r : rows)
          applied.push_back(r.at(0));
        why = missing_migration(applied);
      }
      bool ready = why.empty();
      r.figures = {{"ready", ready ? 1 : 0},
                   {"queries", st.queries},
                   {"failures", st.failures}};
      if (!ready)
        r.info["why"] = why;
      return r;
    },
  };
}

}  // namespace adserver::storage
