#pragma once
// Budget pacing (SPEC.md "Campaign delivery"), free of actors and clocks.
// A STANDARD campaign takes part in an auction only while its spend today is
// at or below its pacing target:
//   target = min(daily_budget, floor(daily_budget x share) + allowance)
//   share  = the expected part of the day's traffic that has passed, from the
//            hourly request curve of the campaign's placements over the last
//            7 business days (smoothed toward uniform; uniform with no history)
//   allowance = daily_budget x pacing.allowance_percent / 100
// ACCELERATED campaigns are never held back (target = daily budget).
#include "actors/ranking.hpp"
#include "protocol/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

inline constexpr const char* delivery_standard = "STANDARD";
inline constexpr const char* delivery_accelerated = "ACCELERATED";

bool is_delivery(const std::string& s);

/// Requests per hour a curve is assumed to have before its own history: with
/// little history the curve stays near uniform, with much it follows it.
inline constexpr int64_t pacing_prior_per_hour = 50;

/// The expected share of a business day's traffic passed `seconds_into_day`
/// after local midnight: the hours before it, plus the passed part of its
/// hour. `hourly` has 24 counts (anything else: uniform). In [0, 1].
double expected_share(const std::vector<int64_t>& hourly, int64_t seconds_into_day);

/// A campaign's curve: the hourly counts of the placements it bids on, added.
std::vector<int64_t> campaign_curve(const traffic_curves& curves, const placement_bids& bids);

/// What a campaign may have spent by now (see above).
int64_t pacing_target(int64_t daily_budget, const std::string& delivery, double share,
                      int64_t allowance_percent);

/// A campaign's target `seconds_into_day` into the business day, from the
/// curves of the placements it bids on: what the budget read and the
/// dashboards show beside the spend.
int64_t campaign_pacing_target(int64_t daily_budget, const std::string& delivery,
                               const placement_bids& bids, const traffic_curves& curves,
                               int64_t allowance_percent, int64_t seconds_into_day);

/// Spend today at or below the target: the campaign may take part.
bool within_pace(int64_t spent_today, int64_t target);

/// The candidates that may take part `seconds_into_day` into the business
/// day: each STANDARD one while its spend today plus the expected cost of
/// its ads served since (pending_cost) is at or below its target (from its
/// own curve, `traffic`; stored in pacing_target). `held_back` counts the
/// STANDARD ones pacing alone keeps out (not those paused or out of budget).
std::vector<candidate> within_pace_now(std::vector<candidate>& all, int64_t seconds_into_day,
                                       int64_t allowance_percent, int64_t& held_back);

/// Adds the expected cost of a served STANDARD ad to its candidate; true when
/// that takes it past its pacing target (the auction should rank again).
bool add_pending_cost(std::vector<candidate>& candidates, int64_t campaign_id, int64_t cost);

}  // namespace adserver
