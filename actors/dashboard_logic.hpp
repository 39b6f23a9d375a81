#pragma once
// The dashboard window model (seed 004), free of actors so it can be tested
// alone: which MINUTE/HOUR/DAY/WEEK/MONTH window a moment falls in (in the
// business time zone), what an event adds to each metric, and the pending
// increments a dashboard-window actor flushes.
#include "actors/types.hpp"

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

enum class window_unit { minute, hour, day, week, month };

const char* unit_name(window_unit u);
std::optional<window_unit> parse_unit(const std::string& name);

/// [start, end) in Unix seconds, aligned to local time of the business zone:
/// minutes and hours as the clock shows them, days from local midnight,
/// weeks from Monday, months from the 1st.
struct time_window {
  int64_t start = 0;
  int64_t end = 0;
  window_unit unit = window_unit::minute;
  bool operator<(const time_window& o) const {
    return std::tie(unit, start, end) < std::tie(o.unit, o.start, o.end);
  }
  bool operator==(const time_window& o) const {
    return unit == o.unit && start == o.start && end == o.end;
  }
};
time_window window_of(int64_t unix_seconds, window_unit unit);

/// The stored metrics (metric_type), seed 004's three first.
enum class metric {
  event_count,
  unique_user_count,
  total_user_count,
  impressions,
  clicks,
  charged_clicks,
  conversions,
  spend,
  revenue,
};
constexpr size_t metric_count = 9;
const char* metric_name(metric m);
std::optional<metric> parse_metric(const std::string& name);

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

/// One pending increment of the campaign_dashboard_metrics table.
struct metric_delta {
  time_window window;
  metric type = metric::event_count;
  int64_t value = 0;
};

/// One pending increment of the variant table (per business day).
struct variant_delta {
  std::string exp_key;
  std::string exp_var;
  time_window day;
  metric type = metric::event_count;
  int64_t value = 0;
};

/// An alert a rule fired (alert_type SPEND_PER_HOUR, CTR_BELOW,
/// NO_IMPRESSIONS or CLICK_ANOMALY), once per rule and window.
struct fired_alert {
  std::string type;
  std::string message;
  double observed = 0;
  double threshold = 0;
  int64_t window_start = 0;  // Unix seconds
};

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
