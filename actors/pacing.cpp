#include "actors/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace adserver {

bool is_delivery(const std::string& s) {
  return s == delivery_standard || s == delivery_accelerated;
}

double expected_share(const std::vector<int64_t>& hourly, int64_t seconds_into_day) {
  auto s = std::clamp<int64_t>(seconds_into_day, 0, 86400);
  if (s >= 86400)
    return 1.0;
  int64_t total = 0;
  bool usable = hourly.size() == 24;
  if (usable)
    for (auto n : hourly) {
      if (n < 0) {
        usable = false;
        break;
      }
      total += n;
    }
  // Smoothing toward uniform: every hour gets the larger of a fixed prior and
  // a tenth of the history spread evenly, so an hour never seen still moves
  // the target on and a thin history does not make pacing jump.
  double prior = std::max<double>(static_cast<double>(pacing_prior_per_hour),
                                  static_cast<double>(total) / 240.0);
  // Each hour stays within a quarter and four times the average hour: a
  // flood of requests in chosen hours (ad requests are public) bends the
  // curve, but cannot make a campaign wait all day or spend in an hour.
  double mean = prior + static_cast<double>(total) / 24.0;
  auto weight = [&](int64_t h) {
    auto w = (usable ? static_cast<double>(hourly[static_cast<size_t>(h)]) : 0.0) + prior;
    return std::clamp(w, mean / 4, mean * 4);
  };
  double all = 0;
  for (int64_t h = 0; h < 24; ++h)
    all += weight(h);
  auto hour = s / 3600;
  double passed = 0;
  for (int64_t h = 0; h < hour; ++h)
    passed += weight(h);
  passed += weight(hour) * static_cast<double>(s - hour * 3600) / 3600.0;
  return std::clamp(passed / all, 0.0, 1.0);
}

std::vector<int64_t> campaign_curve(const traffic_curves& curves, const placement_bids& bids) {
  std::vector<int64_t> out(24, 0);
  for (auto& [placement, bid] : bids) {
    if (bid <= 0)
      continue;
    auto it = curves.hourly.find(placement);
    if (it == curves.hourly.end() || it->second.size() != 24)
      continue;
    for (size_t h = 0; h < 24; ++h)
      out[h] += std::max<int64_t>(0, it->second[h]);
  }
  return out;
}

int64_t pacing_target(int64_t daily_budget, const std::string& delivery, double share,
                      int64_t allowance_percent) {
  if (delivery != delivery_standard || daily_budget <= 0)
    return std::max<int64_t>(0, daily_budget);
  share = std::clamp(share, 0.0, 1.0);
  auto paced = static_cast<int64_t>(std::floor(static_cast<double>(daily_budget) * share));
  auto allowance = daily_budget / 100 * std::clamp<int64_t>(allowance_percent, 0, 100)
                   + daily_budget % 100 * std::clamp<int64_t>(allowance_percent, 0, 100) / 100;
  return std::min(daily_budget, paced + allowance);
}

int64_t campaign_pacing_target(int64_t daily_budget, const std::string& delivery,
                               const placement_bids& bids, const traffic_curves& curves,
                               int64_t allowance_percent, int64_t seconds_into_day) {
  return pacing_target(daily_budget, delivery,
                       expected_share(campaign_curve(curves, bids), seconds_into_day),
                       allowance_percent);
}

bool within_pace(int64_t spent_today, int64_t target) {
  return spent_today <= target;
}

std::vector<candidate> within_pace_now(std::vector<candidate>& all, int64_t seconds_into_day,
                                       int64_t allowance_percent, int64_t& held_back) {
  held_back = 0;
  std::vector<candidate> out;
  out.reserve(all.size());
  for (auto& c : all) {
    if (c.standard_delivery) {
      c.pacing_target = pacing_target(c.daily_budget, delivery_standard,
                                      expected_share(c.traffic, seconds_into_day),
                                      allowance_percent);
      if (!within_pace(c.spent_today + c.pending_cost, c.pacing_target)) {
        if (c.serving && c.spent_today < c.daily_budget)
          ++held_back;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

bool add_pending_cost(std::vector<candidate>& candidates, int64_t campaign_id, int64_t cost) {
  for (auto& c : candidates)
    if (c.campaign_id == campaign_id) {
      if (!c.standard_delivery)
        return false;
      c.pending_cost += std::max<int64_t>(0, cost);
      return !within_pace(c.spent_today + c.pending_cost, c.pacing_target);
    }
  return false;
}

}  // namespace adserver
