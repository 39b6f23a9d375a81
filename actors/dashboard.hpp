#pragma once
// dashboard-window (one per campaign) and dashboards (their placement): see
// protocol/interfaces.hpp and docs/dashboards.md.
#include "actors/dashboard_logic.hpp"
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <set>
#include <vector>
#include <unordered_map>

namespace adserver {

struct dashboard_settings {
  /// Pending counts are written this often (a crash loses at most this much
  /// of dashboard counts; never money).
  int64_t flush_ms = 1000;
  /// Redis Stream campaign:dashboard:stream:{id} is trimmed to about this many.
  int64_t stream_maxlen = 10000;
  /// Users remembered per open window for UNIQUE_USER_COUNT.
  size_t max_users_per_window = 100000;
  /// Unused this long (and without alert rules), a window actor is passivated.
  int64_t idle_seconds = 600;
  /// How often alert rules are judged.
  int64_t alert_check_seconds = 30;
  /// MINUTE rows are kept this many days (HOUR and DAY rows are kept).
  int64_t minute_retention_days = 7;
};

/// The Redis Stream of a campaign's dashboard events.
std::string dashboard_stream_key(int64_t campaign_id);

struct dashboard_window_state {
  int64_t campaign_id = 0;
  io_handles io;
  dashboards_actor placement;
  dashboard_settings settings;
  window_book book;
  alert_rules rules;
  bool flush_scheduled = false;
  bool flush_in_flight = false;
  bool retiring = false;   // passivated: write what it holds (retrying), then stop
  bool stopping = false;   // node stopping: one last write, then stop regardless
  bool checking_alerts = false;
  int64_t last_used = 0;      // epoch seconds
  int64_t watching_since = 0;  // epoch seconds
  int64_t events = 0;
  int64_t flushes = 0;
  int64_t flush_failures = 0;
  int64_t alerts_fired = 0;
  int64_t flushes_lost = 0;  // outcome unknown: not retried (never counted twice)
  census_entry census{actor_kind::dashboard_window};
  static inline const char* name = "dashboard-window";
};

dashboard_window_actor::behavior_type
dashboard_window(dashboard_window_actor::stateful_pointer<dashboard_window_state> self,
                 int64_t campaign_id, io_handles io, dashboards_actor placement,
                 dashboard_settings settings);

struct dashboards_state {
  io_handles io;
  dashboard_settings settings;
  std::unordered_map<int64_t, dashboard_window_actor> windows;
  std::unordered_map<int64_t, alert_rules> rules;  // campaigns with alert rules
  int64_t activations = 0;
  int64_t passivations = 0;
  int64_t events = 0;
  int64_t live_windows = 0;  // spawned and not yet down (retiring ones too)
  int64_t minute_rows_pruned = 0;
  std::vector<dashboard_window_actor> retiring;  // passivated, still writing
  caf::typed_response_promise<bool> drained;
  /// Stopped without the drain: every window is still asked to write.
  ~dashboards_state();
  census_entry census{actor_kind::dashboards};
  static inline const char* name = "dashboards";
};

dashboards_actor::behavior_type
dashboards(dashboards_actor::stateful_pointer<dashboards_state> self, io_handles io,
           dashboard_settings settings);

}  // namespace adserver
