#include "protocol/dashboard_windows.hpp"

namespace adserver {

namespace {

constexpr const char* unit_names[] = {"MINUTE", "HOUR", "DAY", "WEEK", "MONTH"};
constexpr const char* metric_names[] = {
  "EVENT_COUNT", "UNIQUE_USER_COUNT", "TOTAL_USER_COUNT", "IMPRESSIONS", "CLICKS",
  "CHARGED_CLICKS", "CONVERSIONS", "SPEND", "REVENUE"};

}  // namespace

const char* unit_name(window_unit u) {
  return unit_names[static_cast<int>(u)];
}

std::optional<window_unit> parse_unit(const std::string& name) {
  for (int i = 0; i < 5; ++i)
    if (name == unit_names[i])
      return static_cast<window_unit>(i);
  return std::nullopt;
}

const char* metric_name(metric m) {
  return metric_names[static_cast<int>(m)];
}

std::optional<metric> parse_metric(const std::string& name) {
  for (size_t i = 0; i < metric_count; ++i)
    if (name == metric_names[i])
      return static_cast<metric>(i);
  return std::nullopt;
}

}  // namespace adserver
