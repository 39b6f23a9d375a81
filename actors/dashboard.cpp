#include "actors/dashboard.hpp"

#include "actors/validation.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/dashboard_statements.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <chrono>

namespace adserver {

namespace {

using window_ptr = dashboard_window_actor::stateful_pointer<dashboard_window_state>;

/// A check whose reads never answer must not switch the campaign's alerts
/// off for good (checking_alerts would stay set).
constexpr auto alert_read_timeout = std::chrono::seconds(30);
using placement_ptr = dashboards_actor::stateful_pointer<dashboards_state>;

std::chrono::milliseconds poll_interval(const dashboard_settings& s) {
  auto idle = std::clamp<int64_t>(s.idle_seconds / 2, 1, 60);
  auto alerts = std::clamp<int64_t>(s.alert_check_seconds, 1, 3600);
  return std::chrono::seconds(std::min(idle, alerts));
}

void schedule_flush(window_ptr self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  st.flush_scheduled = true;
  // A stopping window writes what it holds at once: the node's stop waits
  // for it (at most 5 s), and flush_ms may be as long. (A failed write of a
  // stopping window ends it, so this never retries in a loop.)
  if (st.stopping)
    self->send(self, flush_atom::value);
  else
    self->delayed_send(self,
                       std::chrono::milliseconds(std::max<int64_t>(10, st.settings.flush_ms)),
                       flush_atom::value);
}

/// Appends an event or alert to the campaign's stream (the SSE source).
void append_to_stream(window_ptr self, const std::string& type, std::string data) {
  auto& st = self->state;
  self->send(st.io.redis, xadd_atom::value, dashboard_stream_key(st.campaign_id),
             std::vector<std::string>{"type", type, "data", std::move(data)},
             st.settings.stream_maxlen);
}

std::string alert_json(int64_t campaign_id, const fired_alert& a, const std::string& id,
                       int64_t fired_ms) {
  char observed[64], threshold[64];
  std::snprintf(observed, sizeof observed, "%.17g", a.observed);
  std::snprintf(threshold, sizeof threshold, "%.17g", a.threshold);
  return "{\"campaignId\":" + std::to_string(campaign_id) + ",\"alertId\":" + id
         + ",\"alertType\":" + json_quote(a.type) + ",\"message\":" + json_quote(a.message)
         + ",\"observedValue\":" + observed + ",\"thresholdValue\":" + threshold
         + ",\"timeWindowStart\":"
         + json_quote(iso8601(std::chrono::system_clock::time_point(
           std::chrono::seconds(a.window_start))))
         + ",\"firedAt\":"
         + json_quote(iso8601(std::chrono::system_clock::time_point(
           std::chrono::milliseconds(fired_ms))))
         + "}";
}

/// Records each alert once; a new one is also streamed (campaign-alert).
void fire(window_ptr self, std::vector<fired_alert> alerts) {
  for (auto& a : alerts) {
    self->request(self->state.io.writer, alert_read_timeout, write_atom::value,
                  std::vector<pg_statement>{storage::alert_insert(self->state.campaign_id, a)})
      .then(
        [=](const pg_results& results) {
          if (results.empty() || results[0].empty())
            return;  // fired before for this window
          ++self->state.alerts_fired;
          auto& row = results[0][0];
          append_to_stream(self, "campaign-alert",
                           alert_json(self->state.campaign_id, a, row.at(0),
                                      std::stoll(row.at(1))));
        },
        [](caf::error&) {
          // Judged again at the next check (the window is still open).
        });
  }
}

/// Reads the campaign's state, this hour's figures (and the click history)
/// and judges the rules. Only an ACTIVE campaign is judged; a deleted one
/// gives its rules up (its window may then be passivated).
void check_alerts(window_ptr self) {
  auto& st = self->state;
  if (!st.rules.any() || st.checking_alerts)
    return;
  st.checking_alerts = true;
  auto now = epoch_seconds();
  auto inputs = std::make_shared<alert_inputs>();
  inputs->now = now;
  inputs->hour_start = window_of(now, window_unit::hour).start;
  auto done = [=] {
    self->state.checking_alerts = false;
    fire(self, evaluate_alerts(self->state.rules, *inputs));
  };
  auto failed = [=](caf::error&) { self->state.checking_alerts = false; };
  auto read_history = [=] {
    self->request(self->state.io.reader, alert_read_timeout, query_atom::value,
                  storage::alert_click_history(self->state.campaign_id, inputs->hour_start,
                                               business_time_zone()))
      .then(
        [=](const pg_rows& rows) {
          for (auto& r : rows) {
            auto k = std::stoll(r.at(0));
            auto n = std::stoll(r.at(1));
            auto v = std::stoll(r.at(2));
            if (n == 0)
              inputs->previous_hour_clicks = v;
            else
              (k == 0 ? inputs->history_current : inputs->history_previous).push_back(v);
          }
          done();
        },
        failed);
  };
  auto read_hour = [=] {
    self->request(self->state.io.reader, alert_read_timeout, query_atom::value,
                  storage::alert_hour_figures(self->state.campaign_id, inputs->hour_start))
      .then(
        [=](const pg_rows& rows) {
          for (auto& r : rows) {
            auto v = std::stoll(r.at(1));
            if (r.at(0) == "SPEND")
              inputs->spend = v;
            else if (r.at(0) == "CLICKS")
              inputs->clicks = v;
            else if (r.at(0) == "IMPRESSIONS")
              inputs->impressions = v;
          }
          if (self->state.rules.anomaly_detection)
            read_history();
          else
            done();
        },
        failed);
  };
  self->request(st.io.reader, alert_read_timeout, query_atom::value,
                storage::alert_campaign_state(st.campaign_id))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        bool deleted = rows.empty() || rows[0].at(1) != "1";
        if (deleted) {
          st.checking_alerts = false;
          alert_rules off;
          off.campaign_id = st.campaign_id;
          self->send(st.placement, alert_atom::value, off);
          return;
        }
        if (rows[0].at(0) != "ACTIVE") {
          st.checking_alerts = false;  // paused or ended: nothing to judge
          return;
        }
        // The last impression this node saw, or the database's (a restart
        // does not begin a new quiet spell), or when watching began.
        auto stored = std::stoll(rows[0].at(2));
        auto seen = st.book.last_impression_ms() / 1000;
        inputs->last_impression = std::max<int64_t>({seen, stored, int64_t{0}});
        if (inputs->last_impression == 0)
          inputs->last_impression = st.watching_since;
        read_hour();
      },
      failed);
}

void flush(window_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  st.book.drop_closed(epoch_seconds());
  if (st.flush_in_flight) {
    // Stopping, the write's answer flushes again (no busy wait here).
    if (!st.stopping)
      schedule_flush(self);
    return;
  }
  if (!st.book.has_pending()) {
    if (st.retiring || st.stopping)
      self->quit();
    return;
  }
  auto pending = st.book.take_pending();
  std::vector<pg_statement> unit;
  if (!pending.first.empty())
    unit.push_back(storage::dashboard_metrics_add(st.campaign_id, pending.first));
  if (!pending.second.empty())
    unit.push_back(storage::variant_metrics_add(st.campaign_id, pending.second));
  st.flush_in_flight = true;
  self->request(st.io.writer, caf::infinite, write_atom::value, std::move(unit))
    .then(
      [=](const pg_results&) {
        auto& st = self->state;
        st.flush_in_flight = false;
        ++st.flushes;
        if (st.book.has_pending() || st.retiring || st.stopping)
          schedule_flush(self);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.flush_in_flight = false;
        ++st.flush_failures;
        // The connection broke during the commit: it may have been written.
        // Adding the counts again could count them twice; dashboards
        // prefer losing one flush interval (docs/dashboards.md).
        if (view(err).details_json.find("\"unknown\"") != std::string::npos)
          ++st.flushes_lost;
        else
          st.book.restore(pending.first, pending.second);  // not written: retry
        if (st.stopping) {
          self->quit();  // shutting down with the database away: counts lost
          return;
        }
        schedule_flush(self);
      });
}

}  // namespace

std::string dashboard_stream_key(int64_t campaign_id) {
  return "campaign:dashboard:stream:" + std::to_string(campaign_id);
}

dashboard_window_actor::behavior_type
dashboard_window(window_ptr self, int64_t campaign_id, io_handles io, dashboards_actor placement,
                 dashboard_settings settings) {
  auto& st = self->state;
  st.campaign_id = campaign_id;
  st.io = io;
  st.placement = placement;
  st.settings = settings;
  st.book = window_book{settings.max_users_per_window};
  st.last_used = epoch_seconds();
  st.watching_since = st.last_used;
  st.rules.campaign_id = campaign_id;
  self->delayed_send(self, poll_interval(settings), poll_atom::value);
  return {
    [=](track_atom, const dashboard_event& e) {
      auto& st = self->state;
      ++st.events;
      st.last_used = epoch_seconds();
      st.book.add(e);
      append_to_stream(self, "campaign-event", dashboard_event_json(e));
      schedule_flush(self);
    },
    [=](alert_atom, const alert_rules& rules) {
      auto& st = self->state;
      st.rules = rules;
      st.rules.campaign_id = st.campaign_id;
      st.last_used = epoch_seconds();
    },
    [=](flush_atom) {
      self->state.census.sample(self->mailbox().size());
      flush(self);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (st.retiring)
        return;
      check_alerts(self);
      if (!st.rules.any() && !st.book.has_pending() && !st.flush_in_flight
          && st.settings.idle_seconds > 0
          && epoch_seconds() - st.last_used >= st.settings.idle_seconds)
        self->send(st.placement, idle_atom::value, st.campaign_id,
                   dashboard_window_actor{self});
      self->delayed_send(self, poll_interval(st.settings), poll_atom::value);
    },
    [=](retire_atom) {
      self->state.retiring = true;
      flush(self);
    },
    [=](stop_atom) {
      self->state.stopping = true;
      flush(self);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "dashboard-window";
      r.key = std::to_string(st.campaign_id);
      r.figures = {{"events", st.events},
                   {"flushes", st.flushes},
                   {"flush_failures", st.flush_failures},
                   {"windows_held", static_cast<int64_t>(st.book.windows_held())},
                   {"alerts_fired", st.alerts_fired},
                   {"flushes_lost", st.flushes_lost},
                   {"variants_refused", st.book.variants_refused()},
                   {"pending", st.book.has_pending() ? 1 : 0}};
      return r;
    },
  };
}

namespace {

dashboard_window_actor window_for(placement_ptr self, int64_t campaign_id) {
  auto& st = self->state;
  if (auto it = st.windows.find(campaign_id); it != st.windows.end())
    return it->second;
  auto w = self->spawn(dashboard_window, campaign_id, st.io, dashboards_actor{self}, st.settings);
  self->monitor(w);
  ++st.live_windows;
  st.windows.emplace(campaign_id, w);
  ++st.activations;
  if (auto it = st.rules.find(campaign_id); it != st.rules.end())
    self->send(w, alert_atom::value, it->second);
  return w;
}

}  // namespace

dashboards_state::~dashboards_state() {
  // Stopped without the drain (exit message): still ask them to write.
  for (auto& [id, w] : windows)
    caf::anon_send(w, stop_atom::value);
}

dashboards_actor::behavior_type dashboards(placement_ptr self, io_handles io,
                                           dashboard_settings settings) {
  self->state.io = io;
  self->state.settings = settings;
  self->send(self, reload_atom::value);
  self->delayed_send(self, std::chrono::minutes(1), flush_atom::value);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    --st.live_windows;
    st.retiring.erase(std::remove_if(st.retiring.begin(), st.retiring.end(),
                                     [&](const dashboard_window_actor& w) {
                                       return w.address() == down.source;
                                     }),
                      st.retiring.end());
    if (st.live_windows == 0 && st.drained.pending())
      st.drained.deliver(true);
  });
  return {
    [=](track_atom, dashboard_event& e) {
      if (e.campaign_id <= 0)
        return;
      ++self->state.events;
      self->send(window_for(self, e.campaign_id), track_atom::value, std::move(e));
    },
    [=](alert_atom, const alert_rules& rules) {
      auto& st = self->state;
      if (rules.any())
        st.rules[rules.campaign_id] = rules;
      else
        st.rules.erase(rules.campaign_id);
      self->send(window_for(self, rules.campaign_id), alert_atom::value, rules);
    },
    [=](idle_atom, int64_t campaign_id, const dashboard_window_actor& w) {
      auto& st = self->state;
      auto it = st.windows.find(campaign_id);
      // Rules may have arrived after the window judged itself idle: a
      // campaign with rules keeps its window (its alerts are judged there).
      if (it == st.windows.end() || it->second != w || st.rules.count(campaign_id))
        return;
      // Events sent to it before this point are handled before the retire.
      st.windows.erase(it);
      st.retiring.push_back(w);
      ++st.passivations;
      self->send(w, retire_atom::value);
    },
    [=](reload_atom) {
      self->request(self->state.io.reader, caf::infinite, query_atom::value,
                    storage::alert_rules_all())
        .then(
          [=](const pg_rows& rows) {
            for (auto& row : rows) {
              auto rules = storage::parse_alert_rules(row);
              if (!rules.any())
                continue;
              self->state.rules[rules.campaign_id] = rules;
              self->send(window_for(self, rules.campaign_id), alert_atom::value, rules);
            }
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::seconds(5), reload_atom::value);
          });
    },
    [=](flush_atom) {
      self->state.census.sample(self->mailbox().size());
      constexpr int64_t batch = 10000;
      auto& st = self->state;
      self->request(st.io.writer, std::chrono::seconds(60), write_atom::value,
                    std::vector<pg_statement>{storage::dashboard_minutes_prune(
                      st.settings.minute_retention_days, batch)})
        .then(
          [=](const pg_results& results) {
            int64_t gone = 0;
            if (!results.empty() && !results[0].empty())
              gone = std::stoll(results[0][0].at(0));
            self->state.minute_rows_pruned += gone;
            // A full batch: more to go, after the messages queued meanwhile.
            if (gone >= batch)
              self->send(self, flush_atom::value);
            else
              self->delayed_send(self, std::chrono::hours(1), flush_atom::value);
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::minutes(5), flush_atom::value);
          });
    },
    [=](stop_atom) -> caf::result<bool> {
      auto& st = self->state;
      // Every window writes what it holds and stops; the answer comes when
      // the last one has (main waits for it before stopping pg-writer).
      for (auto& [id, w] : st.windows)
        self->send(w, stop_atom::value);
      for (auto& w : st.retiring)
        self->send(w, stop_atom::value);
      st.windows.clear();
      st.rules.clear();
      if (st.live_windows == 0)
        return true;
      st.drained = self->make_response_promise<bool>();
      return st.drained;
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "dashboards";
      r.figures = {{"windows", static_cast<int64_t>(st.windows.size())},
                   {"campaigns_with_alerts", static_cast<int64_t>(st.rules.size())},
                   {"activations", st.activations},
                   {"minute_rows_pruned", st.minute_rows_pruned},
                   {"passivations", st.passivations},
                   {"events", st.events}};
      return r;
    },
  };
}

}  // namespace adserver
