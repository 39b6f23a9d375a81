#include "actors/dashboard_logic.hpp"

#include "actors/validation.hpp"
#include "protocol/business_time.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>

namespace adserver {

namespace {

std::tm local(int64_t t) {
  std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  return tm;
}

/// Local midnight of the day `days` after the day of `tm` (mktime normalizes).
int64_t midnight(std::tm tm, int days) {
  tm.tm_hour = 0;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_mday += days;
  tm.tm_isdst = -1;  // that midnight's own offset
  return static_cast<int64_t>(::mktime(&tm));
}

int64_t month_start(std::tm tm, int months) {
  tm.tm_hour = 0;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_mday = 1;
  tm.tm_mon += months;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(::mktime(&tm));
}

int64_t floor_div(int64_t a, int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::string iso(int64_t ms) {
  return iso8601(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

}  // namespace

time_window window_of(int64_t t, window_unit unit) {
  time_window w;
  w.unit = unit;
  switch (unit) {
    case window_unit::minute:
      // Every zone's offset is a whole number of minutes.
      w.start = floor_div(t, 60) * 60;
      w.end = w.start + 60;
      break;
    case window_unit::hour: {
      // The hour as the local clock shows it (offsets such as +05:30 or
      // +05:45 shift hours off UTC's); an hour is always 3600 s long.
      auto tm = local(t);
      w.start = t - tm.tm_min * 60 - tm.tm_sec;
      w.end = w.start + 3600;
      break;
    }
    case window_unit::day: {
      auto tm = local(t);
      w.start = midnight(tm, 0);
      w.end = midnight(tm, 1);
      break;
    }
    case window_unit::week: {
      auto tm = local(t);
      int since_monday = (tm.tm_wday + 6) % 7;
      w.start = midnight(tm, -since_monday);
      w.end = midnight(tm, 7 - since_monday);
      break;
    }
    case window_unit::month: {
      auto tm = local(t);
      w.start = month_start(tm, 0);
      w.end = month_start(tm, 1);
      break;
    }
  }
  return w;
}

std::array<int64_t, metric_count> increments_of(const dashboard_event& e) {
  std::array<int64_t, metric_count> v{};
  auto at = [&v](metric m) -> int64_t& { return v[static_cast<size_t>(m)]; };
  at(metric::event_count) = 1;
  at(metric::total_user_count) = e.user_id.empty() ? 0 : 1;
  if (e.kind == "IMPRESSION") {
    at(metric::impressions) = 1;
  } else if (e.kind == "CLICK") {
    at(metric::clicks) = 1;
    if (e.charged) {
      at(metric::charged_clicks) = 1;
      at(metric::spend) = e.amount;
    }
  } else if (e.kind == "CONVERSION") {
    at(metric::conversions) = 1;
    at(metric::revenue) = e.revenue;
  }
  return v;
}

std::string dashboard_event_json(const dashboard_event& e) {
  std::string out = "{\"campaignId\":" + std::to_string(e.campaign_id)
                    + ",\"eventName\":" + json_quote(e.kind)
                    + ",\"userId\":" + json_quote(e.user_id)
                    + ",\"timestamp\":" + json_quote(iso(e.at_ms));
  if (!e.request_id.empty())
    out += ",\"requestId\":" + json_quote(e.request_id);
  if (!e.ad_id.empty())
    out += ",\"adId\":" + json_quote(e.ad_id);
  if (!e.product_id.empty())
    out += ",\"productId\":" + json_quote(e.product_id);
  if (e.kind == "CLICK") {
    out += std::string(",\"charged\":") + (e.charged ? "true" : "false")
           + ",\"amount\":" + std::to_string(e.amount);
    if (!e.reason.empty())
      out += ",\"reason\":" + json_quote(e.reason);
  }
  if (e.kind == "CONVERSION")
    out += ",\"orderId\":" + json_quote(e.order_id) + ",\"revenue\":" + std::to_string(e.revenue);
  if (!e.exp_key.empty())
    out += ",\"expKey\":" + json_quote(e.exp_key) + ",\"expVar\":" + json_quote(e.exp_var);
  return out + "}";
}

derived_metrics derive(const std::array<int64_t, metric_count>& v) {
  auto at = [&v](metric m) { return static_cast<double>(v[static_cast<size_t>(m)]); };
  derived_metrics d;
  if (at(metric::impressions) > 0)
    d.ctr = at(metric::clicks) / at(metric::impressions);
  if (at(metric::clicks) > 0)
    d.cvr = at(metric::conversions) / at(metric::clicks);
  if (at(metric::charged_clicks) > 0)
    d.cpc = at(metric::spend) / at(metric::charged_clicks);
  if (at(metric::spend) > 0)
    d.roas = at(metric::revenue) / at(metric::spend);
  return d;
}

window_book::window_book(size_t max_users_per_window, size_t max_variants)
  : max_users_(max_users_per_window), max_variants_(max_variants) {
}

void window_book::add(const dashboard_event& e) {
  auto inc = increments_of(e);
  int64_t t = floor_div(e.at_ms, 1000);
  auto user = e.user_id.empty() ? uint64_t{0} : std::hash<std::string>{}(e.user_id);
  for (auto unit : {window_unit::minute, window_unit::hour, window_unit::day}) {
    auto w = window_of(t, unit);
    for (size_t m = 0; m < metric_count; ++m)
      if (inc[m] != 0)
        pending_[{w, static_cast<metric>(m)}] += inc[m];
    if (!e.user_id.empty()) {
      auto& seen = users_[w];
      // Past the bound every further user counts as new: an upper bound,
      // never an undercount (docs/dashboards.md).
      if (seen.size() >= max_users_ || seen.insert(user).second)
        pending_[{w, metric::unique_user_count}] += 1;
    }
  }
  if (e.kind == "IMPRESSION")
    last_impression_ms_ = std::max(last_impression_ms_, e.at_ms);
  if (!e.exp_key.empty()) {
    auto day = window_of(t, window_unit::day);
    // Experiment names come from clients: a bounded number of variants per
    // campaign and day are counted, so made-up names cannot grow the table.
    auto& seen = variants_seen_[day.start];
    if (!seen.count({e.exp_key, e.exp_var})) {
      if (seen.size() >= max_variants_) {
        ++variants_refused_;
        return;
      }
      seen.insert({e.exp_key, e.exp_var});
    }
    for (auto m : {metric::impressions, metric::clicks, metric::charged_clicks, metric::spend,
                   metric::conversions, metric::revenue})
      if (inc[static_cast<size_t>(m)] != 0)
        pending_variants_[{e.exp_key, e.exp_var, day.start, m}] += inc[static_cast<size_t>(m)];
  }
}

std::pair<std::vector<metric_delta>, std::vector<variant_delta>> window_book::take_pending() {
  std::vector<metric_delta> m;
  m.reserve(pending_.size());
  for (auto& [key, value] : pending_)
    m.push_back({key.first, key.second, value});
  std::vector<variant_delta> v;
  for (auto& [key, value] : pending_variants_) {
    auto day = window_of(std::get<2>(key), window_unit::day);
    v.push_back({std::get<0>(key), std::get<1>(key), day, std::get<3>(key), value});
  }
  pending_.clear();
  pending_variants_.clear();
  return {std::move(m), std::move(v)};
}

void window_book::restore(const std::vector<metric_delta>& m,
                          const std::vector<variant_delta>& v) {
  for (auto& d : m)
    pending_[{d.window, d.type}] += d.value;
  for (auto& d : v)
    pending_variants_[{d.exp_key, d.exp_var, d.day.start, d.type}] += d.value;
}

bool window_book::has_pending() const {
  return !pending_.empty() || !pending_variants_.empty();
}

void window_book::drop_closed(int64_t now) {
  for (auto it = users_.begin(); it != users_.end();)
    it = it->first.end <= now ? users_.erase(it) : std::next(it);
  // Variant names of days that ended.
  for (auto it = variants_seen_.begin(); it != variants_seen_.end();)
    it = window_of(it->first, window_unit::day).end <= now ? variants_seen_.erase(it)
                                                           : std::next(it);
}

size_t window_book::windows_held() const {
  return users_.size();
}


}  // namespace adserver

namespace adserver {

namespace {

/// Mean and standard deviation (at least 1) of the days with a row; false
/// with fewer than 3 such days.
bool history_stats(const std::vector<int64_t>& history, double& mean, double& sigma) {
  std::vector<double> xs;
  for (auto v : history)
    if (v >= 0)
      xs.push_back(static_cast<double>(v));
  if (xs.size() < 3)
    return false;
  double sum = 0;
  for (auto x : xs)
    sum += x;
  mean = sum / static_cast<double>(xs.size());
  double var = 0;
  for (auto x : xs)
    var += (x - mean) * (x - mean);
  sigma = std::max(1.0, std::sqrt(var / static_cast<double>(xs.size())));
  return true;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

}  // namespace

std::vector<fired_alert> evaluate_alerts(const alert_rules& rules, const alert_inputs& in) {
  std::vector<fired_alert> out;
  if (rules.spend_per_hour_above > 0 && in.spend > rules.spend_per_hour_above)
    out.push_back({"SPEND_PER_HOUR",
                   "spend this hour " + std::to_string(in.spend) + " won is above "
                     + std::to_string(rules.spend_per_hour_above),
                   static_cast<double>(in.spend), static_cast<double>(rules.spend_per_hour_above),
                   in.hour_start});
  if (rules.ctr_below > 0 && in.impressions >= std::max<int64_t>(1, rules.ctr_min_impressions)) {
    double ctr = static_cast<double>(in.clicks) / static_cast<double>(in.impressions);
    if (ctr < rules.ctr_below)
      out.push_back({"CTR_BELOW",
                     "CTR this hour " + fixed(ctr, 4) + " is below " + fixed(rules.ctr_below, 4)
                       + " after " + std::to_string(in.impressions) + " impressions",
                     ctr, rules.ctr_below, in.hour_start});
  }
  if (rules.no_impressions_minutes > 0) {
    auto quiet = in.now - in.last_impression;
    if (quiet >= rules.no_impressions_minutes * 60)
      out.push_back({"NO_IMPRESSIONS",
                     "no impressions for " + std::to_string(quiet / 60) + " minutes",
                     static_cast<double>(quiet / 60),
                     static_cast<double>(rules.no_impressions_minutes),
                     // once per quiet spell: the spell is named by its start
                     in.last_impression});
  }
  if (rules.anomaly_detection) {
    double mean = 0, sigma = 0;
    if (history_stats(in.history_current, mean, sigma)
        && static_cast<double>(in.clicks) > mean + 3 * sigma)
      out.push_back({"CLICK_ANOMALY",
                     "clicks this hour " + std::to_string(in.clicks) + " are above "
                       + fixed(mean, 1) + " + 3 x " + fixed(sigma, 1)
                       + " (the same hour, last 7 days)",
                     static_cast<double>(in.clicks), mean + 3 * sigma, in.hour_start});
    if (in.previous_hour_clicks >= 0 && history_stats(in.history_previous, mean, sigma)
        && std::abs(static_cast<double>(in.previous_hour_clicks) - mean) > 3 * sigma)
      out.push_back({"CLICK_ANOMALY",
                     "clicks in the last hour " + std::to_string(in.previous_hour_clicks)
                       + " are more than 3 x " + fixed(sigma, 1) + " from "
                       + fixed(mean, 1) + " (the same hour, last 7 days)",
                     static_cast<double>(in.previous_hour_clicks), mean,
                     in.hour_start - 3600});
  }
  return out;
}

}  // namespace adserver
