#pragma once
// traffic: turns the node's ad-request counters (per placement) into hourly
// rows of ad_traffic_hourly, and keeps the curves of the last 7 business days
// that STANDARD budget pacing spreads daily budgets over (actors/pacing.hpp).
// Statistics, not money: a write that fails is retried with the next one;
// one whose commit is unknown may count a minute twice.
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <array>
#include <functional>
#include <map>
#include <string>
#include <tuple>

namespace adserver {

struct traffic_settings {
  /// How often the counts are written.
  int64_t flush_seconds = 60;
  /// How often the curves are read again (and whenever the day changes).
  int64_t refresh_seconds = 600;
  /// Hours kept while PostgreSQL is down; the oldest go beyond it.
  size_t max_pending = 24 * 4 * 2;
  /// false (pacing.curve = uniform): the curves asked for are empty
  /// (uniform); counting goes on.
  bool learn = true;
};

/// (business date, hour, placement): one row of ad_traffic_hourly.
using traffic_slot = std::tuple<std::string, int64_t, std::string>;

/// Adds what the counters gained since `seen` to `pending` under the given
/// hour, and moves `seen` on. Drops the oldest slots beyond `max_pending`;
/// returns how many requests were dropped that way.
int64_t take_counts(std::map<traffic_slot, int64_t>& pending, std::array<int64_t, 4>& seen,
                    const std::array<int64_t, 4>& counters, const std::string& date,
                    int64_t hour, size_t max_pending);

struct traffic_state {
  pg_writer_actor writer;
  pg_reader_actor reader;
  traffic_settings settings;
  std::array<int64_t, 4> seen{};
  std::map<traffic_slot, int64_t> pending;
  bool writing = false;
  /// Who waits for what is pending now (a stop): written once the write in
  /// flight has answered.
  std::vector<std::function<void()>> after_write;
  traffic_curves curves;
  int64_t refreshed_at = 0;  // epoch seconds of the last curve read
  bool refreshing = false;
  int64_t written = 0;  // requests written
  int64_t write_failures = 0;
  int64_t dropped = 0;
  census_entry census{actor_kind::traffic};
  static inline const char* name = "traffic";
};

traffic_actor::behavior_type traffic(traffic_actor::stateful_pointer<traffic_state> self,
                                     pg_writer_actor writer, pg_reader_actor reader,
                                     traffic_settings settings);

}  // namespace adserver
