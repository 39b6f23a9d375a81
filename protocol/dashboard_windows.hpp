#pragma once
// The dashboard window records (seed 004) that the dashboard-window actors
// build and storage/dashboard_statements writes: window units, metrics, the
// pending increments of a flush and the alerts a window fired. Which window
// a moment falls in is actors/dashboard_logic's.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

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

}  // namespace adserver
