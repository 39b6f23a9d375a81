#include "actors/traffic.hpp"

#include "actors/validation.hpp"
#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

namespace adserver {

int64_t take_counts(std::map<traffic_slot, int64_t>& pending, std::array<int64_t, 4>& seen,
                    const std::array<int64_t, 4>& counters, const std::string& date,
                    int64_t hour, size_t max_pending) {
  for (size_t i = 0; i < 4; ++i) {
    auto gained = counters[i] - seen[i];
    seen[i] = counters[i];
    if (gained > 0)
      pending[traffic_slot{date, hour, placement_names[i]}] += gained;
  }
  int64_t dropped = 0;
  while (pending.size() > max_pending) {
    dropped += pending.begin()->second;
    pending.erase(pending.begin());
  }
  return dropped;
}

namespace {

using self_ptr = traffic_actor::stateful_pointer<traffic_state>;

std::array<int64_t, 4> read_counters() {
  std::array<int64_t, 4> out{};
  auto& t = telemetry();
  for (size_t i = 0; i < 4; ++i)
    out[i] = t.ad_requests_by_placement[i].load(std::memory_order_relaxed);
  return out;
}

/// The counters since the last take, under the hour they are taken in.
void take(self_ptr self) {
  auto& st = self->state;
  auto now = std::chrono::system_clock::now();
  st.dropped += take_counts(st.pending, st.seen, read_counters(), business_date(now),
                            business_seconds_into_day(now) / 3600, st.settings.max_pending);
}

/// The next poll: after flush_seconds, but never past the next business
/// hour, so counts land in the hour they were made in (within a second).
std::chrono::seconds next_poll(const traffic_settings& s) {
  auto into_hour = business_seconds_into_day(std::chrono::system_clock::now()) % 3600;
  auto to_next_hour = 3600 - into_hour + 1;
  return std::chrono::seconds(std::clamp<int64_t>(std::min(s.flush_seconds, to_next_hour), 1,
                                                  3600));
}

void write_pending(self_ptr self, std::function<void()> done = {});

/// What came while a write was in flight, for those who asked for it.
void write_for_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.after_write.empty())
    return;
  auto waiters = std::move(st.after_write);
  st.after_write.clear();
  write_pending(self, [waiters] {
    for (auto& w : waiters)
      w();
  });
}

/// Writes what is pending in one unit; on failure it stays for the next.
/// `done` (if any) hears when the write has answered, or when the one in
/// flight has and what came meanwhile is written too.
void write_pending(self_ptr self, std::function<void()> done) {
  auto& st = self->state;
  if (st.writing) {
    if (done)
      st.after_write.push_back(std::move(done));
    return;
  }
  if (st.pending.empty()) {
    if (done)
      done();
    return;
  }
  auto batch = std::make_shared<std::map<traffic_slot, int64_t>>(std::move(st.pending));
  st.pending.clear();
  std::vector<pg_statement> unit;
  for (auto& [slot, n] : *batch)
    unit.push_back(storage::traffic_add(std::get<2>(slot), std::get<0>(slot), std::get<1>(slot), n));
  st.writing = true;
  self->request(st.writer, std::chrono::seconds(30), write_atom::value, std::move(unit))
    .then(
      [=](const pg_results&) {
        auto& st = self->state;
        st.writing = false;
        for (auto& [slot, n] : *batch)
          st.written += n;
        if (done)
          done();
        write_for_waiters(self);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.writing = false;
        ++st.write_failures;
        log_line(log_level::warn, "traffic_write_failed", {{"error", caf::to_string(err)}});
        for (auto& [slot, n] : *batch)
          st.pending[slot] += n;
        while (st.pending.size() > st.settings.max_pending) {
          st.dropped += st.pending.begin()->second;
          st.pending.erase(st.pending.begin());
        }
        if (done)
          done();
        write_for_waiters(self);
      });
}

void refresh_curves(self_ptr self) {
  auto& st = self->state;
  if (st.refreshing)
    return;
  st.refreshing = true;
  auto today = business_today();
  self->request(st.reader, std::chrono::seconds(30), query_atom::value,
                storage::traffic_curves_read(today))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        st.refreshing = false;
        st.curves = storage::parse_traffic_curves(rows, today);
        st.refreshed_at = epoch_seconds();
      },
      [=](caf::error&) {
        // The last curves stay; the next poll tries again.
        self->state.refreshing = false;
      });
}

}  // namespace

traffic_actor::behavior_type traffic(traffic_actor::stateful_pointer<traffic_state> self,
                                     pg_writer_actor writer, pg_reader_actor reader,
                                     traffic_settings settings) {
  auto& st = self->state;
  st.writer = std::move(writer);
  st.reader = std::move(reader);
  st.settings = settings;
  st.seen = read_counters();
  refresh_curves(self);
  self->delayed_send(self, next_poll(settings), poll_atom::value);
  return {
    [=](traffic_atom) {
      auto& st = self->state;
      if (!st.settings.learn)
        return traffic_curves{st.curves.day, {}};
      return st.curves;
    },
    [=](poll_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      take(self);
      write_pending(self);
      if (st.curves.day != business_today()
          || epoch_seconds() - st.refreshed_at >= st.settings.refresh_seconds)
        refresh_curves(self);
      self->delayed_send(self, next_poll(st.settings), poll_atom::value);
    },
    [=](stop_atom) -> caf::result<bool> {
      take(self);
      auto promise = self->make_response_promise<bool>();
      write_pending(self, [promise]() mutable { promise.deliver(true); });
      return promise;
    },
    [=](status_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "traffic";
      r.key = "traffic";
      int64_t pending = 0;
      for (auto& [slot, n] : st.pending)
        pending += n;
      r.figures = {{"written", st.written},
                   {"pending", pending},
                   {"write_failures", st.write_failures},
                   {"dropped", st.dropped},
                   {"placements_with_history", static_cast<int64_t>(st.curves.hourly.size())}};
      r.info = {{"curves_day", st.curves.day}};
      return r;
    },
  };
}

}  // namespace adserver
