#pragma once
// The dashboard window model (seed 004), free of actors so it can be tested
// alone: which MINUTE/HOUR/DAY/WEEK/MONTH window a moment falls in (in the
// business time zone), what an event adds to each metric, the window book
// that gathers a campaign's pending increments, and the alert rules. The
// records themselves are protocol/dashboard_windows.hpp's.
#include "protocol/dashboard_windows.hpp"
#include "protocol/records.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

namespace adserver {

/// The window of `unit` that a moment falls in (business time zone).
time_window window_of(int64_t unix_seconds, window_unit unit);

/// The increment of every metric an event brings (unique users excluded:
/// they depend on what the window saw before).
std::array<int64_t, metric_count> increments_of(const dashboard_event& e);

/// The JSON of an event as the SSE `campaign-event` data (camelCase, seed 004).
std::string dashboard_event_json(const dashboard_event& e);

/// Derived ratios of a window's counts; 0 where the denominator is 0.
struct derived_metrics {
  double ctr = 0;   // clicks / impressions
  double cvr = 0;   // conversions / clicks
  double cpc = 0;   // spend / charged clicks (won)
  double roas = 0;  // revenue / spend
};
derived_metrics derive(const std::array<int64_t, metric_count>& v);

/// What the alert rules are judged on.
struct alert_inputs {
  int64_t now = 0;          // Unix seconds
  int64_t hour_start = 0;   // the current local hour
  int64_t spend = 0;        // this hour
  int64_t clicks = 0;
  int64_t impressions = 0;
  /// Unix seconds of the last impression, or when watching began if none.
  int64_t last_impression = 0;
  /// CLICKS of the same local hour on each of the previous 7 days (-1: no
  /// row); for the current hour and for the hour before (which is complete).
  std::vector<int64_t> history_current;
  std::vector<int64_t> history_previous;
  int64_t previous_hour_clicks = -1;  // -1: unknown
};

/// The alerts the rules fire on these inputs. The anomaly rule needs at least
/// 3 days of history; its standard deviation is at least 1 click, so a flat
/// history does not alarm on one extra click. The current hour is judged for
/// spikes (it is still filling), the hour before for both directions.
std::vector<fired_alert> evaluate_alerts(const alert_rules& rules, const alert_inputs& in);

/// A campaign's open windows: counts added since the last flush and the
/// users seen per window (exact, up to a bound per window).
class window_book {
public:
  explicit window_book(size_t max_users_per_window = 100000, size_t max_variants = 100);
  /// Adds an event to its MINUTE, HOUR and DAY windows (and its variant's day).
  void add(const dashboard_event& e);
  /// Takes what has not been flushed; the book forgets it.
  std::pair<std::vector<metric_delta>, std::vector<variant_delta>> take_pending();
  /// Puts back what a failed flush took (it is added to newer increments).
  void restore(const std::vector<metric_delta>& m, const std::vector<variant_delta>& v);
  bool has_pending() const;
  /// Forgets the user sets of windows that ended before `now_seconds` (their
  /// counts were flushed or are pending): memory stays bounded.
  void drop_closed(int64_t now_seconds);
  /// Open windows holding a user set.
  size_t windows_held() const;
  /// Events whose variant was not counted (beyond max_variants a day).
  int64_t variants_refused() const { return variants_refused_; }
  /// Unix ms of the last impression (0: none seen).
  int64_t last_impression_ms() const { return last_impression_ms_; }

private:
  size_t max_users_;
  size_t max_variants_;  // distinct exp_key/exp_var pairs counted per day
  std::map<int64_t, std::set<std::pair<std::string, std::string>>> variants_seen_;
  int64_t variants_refused_ = 0;
  std::map<std::pair<time_window, metric>, int64_t> pending_;
  std::map<std::tuple<std::string, std::string, int64_t, metric>, int64_t> pending_variants_;
  std::map<time_window, std::unordered_set<uint64_t>> users_;
  int64_t last_impression_ms_ = 0;
};

}  // namespace adserver
