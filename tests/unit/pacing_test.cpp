// Budget pacing (actors/pacing.hpp) and the traffic counts it learns from
// (actors/traffic.hpp), with the time of day injected.
#include "actors/ledger_logic.hpp"
#include "actors/pacing.hpp"
#include "actors/traffic.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {

constexpr int64_t hour = 3600;

candidate standard(int64_t id, int64_t daily_budget, int64_t spent_today) {
  candidate c;
  c.campaign_id = id;
  c.daily_budget = daily_budget;
  c.spent_today = spent_today;
  c.standard_delivery = true;
  return c;
}

}  // namespace

TEST(Pacing, WithoutHistoryTheShareIsTheTimeOfDay) {
  EXPECT_DOUBLE_EQ(expected_share({}, 0), 0.0);
  EXPECT_NEAR(expected_share({}, 6 * hour), 0.25, 1e-12);
  EXPECT_NEAR(expected_share({}, 12 * hour + 30 * 60), 12.5 / 24, 1e-12);
  EXPECT_DOUBLE_EQ(expected_share({}, 86400), 1.0);
  // A curve of the wrong size is no curve.
  EXPECT_NEAR(expected_share({1, 2, 3}, 6 * hour), 0.25, 1e-12);
}

TEST(Pacing, TheShareFollowsTheLearnedCurve) {
  // Traffic only from 18:00 to 24:00, a lot of it: by 18:00 little of the
  // day's traffic has passed, by midnight all of it.
  std::vector<int64_t> evening(24, 0);
  for (int h = 18; h < 24; ++h)
    evening[static_cast<size_t>(h)] = 100'000;
  auto at_six_pm = expected_share(evening, 18 * hour);
  auto at_nine_pm = expected_share(evening, 21 * hour);
  EXPECT_LT(at_six_pm, 0.2);  // uniform would be 0.75
  EXPECT_GT(at_nine_pm, 0.5);
  EXPECT_NEAR(expected_share(evening, 86400), 1.0, 1e-12);
  // Within an hour the share grows in proportion to the minutes passed.
  auto at_half_past = expected_share(evening, 18 * hour + 30 * 60);
  EXPECT_NEAR(at_half_past, (at_six_pm + expected_share(evening, 19 * hour)) / 2, 1e-12);
}

TEST(Pacing, AFloodInOneHourCannotHoldACampaignBackAllDay) {
  // Ad requests are public: a billion in the last hour must not leave the
  // rest of the day with nothing to spend.
  std::vector<int64_t> flood(24, 1000);
  flood[23] = 1'000'000'000;
  EXPECT_GT(expected_share(flood, 23 * hour), 0.5);
  EXPECT_LT(expected_share(flood, 23 * hour), 0.75);  // it still bends the curve
}

TEST(Pacing, AThinHistoryStaysNearUniform) {
  std::vector<int64_t> thin(24, 0);
  thin[20] = 10;  // ten requests ever
  EXPECT_NEAR(expected_share(thin, 12 * hour), 0.5, 0.01);
}

TEST(Pacing, TheShareNeverGoesBackAsTheDayGoesOn) {
  std::vector<int64_t> curve(24, 0);
  curve[3] = 5000;
  curve[15] = 900;
  double last = 0;
  for (int64_t s = 0; s <= 86400; s += 600) {
    auto share = expected_share(curve, s);
    EXPECT_GE(share, last) << s;
    last = share;
  }
}

TEST(Pacing, ACampaignsCurveAddsThePlacementsItBidsOn) {
  traffic_curves curves;
  curves.hourly["HOME"] = std::vector<int64_t>(24, 1);
  curves.hourly["SEARCH"] = std::vector<int64_t>(24, 2);
  curves.hourly["CATEGORY"] = std::vector<int64_t>(24, 100);
  auto c = campaign_curve(curves, {{"HOME", 100}, {"SEARCH", 50}, {"PRODUCT_DETAIL", 70}});
  ASSERT_EQ(c.size(), 24u);
  EXPECT_EQ(c[0], 3);
  EXPECT_EQ(c[23], 3);
}

TEST(Pacing, TheTargetIsTheBudgetShareAndAnAllowanceCappedAtTheBudget) {
  EXPECT_EQ(pacing_target(10'000, "STANDARD", 0.25, 2), 2'500 + 200);
  EXPECT_EQ(pacing_target(10'000, "STANDARD", 0.0, 2), 200);
  EXPECT_EQ(pacing_target(10'000, "STANDARD", 0.99, 2), 10'000);
  EXPECT_EQ(pacing_target(10'000, "STANDARD", 0.25, 0), 2'500);
  EXPECT_EQ(pacing_target(10'000, "ACCELERATED", 0.0, 2), 10'000);
  EXPECT_EQ(pacing_target(150, "STANDARD", 0.5, 10), 75 + 15);
}

TEST(Pacing, AStandardCampaignAheadOfItsTargetWaitsAndAcceleratedDoesNot) {
  // 10,000 a day, uniform traffic, 2 % allowance. At 06:00 the target is 2,700.
  std::vector<candidate> all = {standard(1, 10'000, 2'700), standard(2, 10'000, 2'701)};
  candidate accelerated = standard(3, 10'000, 9'000);
  accelerated.standard_delivery = false;
  all.push_back(accelerated);
  int64_t held = 0;
  auto now = within_pace_now(all, 6 * hour, 2, held);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0].campaign_id, 1);
  EXPECT_EQ(now[1].campaign_id, 3);
  EXPECT_EQ(held, 1);
  // Later in the day the held-back campaign takes part again.
  auto later = within_pace_now(all, 7 * hour, 2, held);
  EXPECT_EQ(later.size(), 3u);
  EXPECT_EQ(held, 0);
}

TEST(Pacing, ItStartsTheDayWithinPace) {
  int64_t held = 0;
  std::vector<candidate> fresh = {standard(1, 10'000, 0)};
  EXPECT_EQ(within_pace_now(fresh, 0, 0, held).size(), 1u);
  EXPECT_EQ(held, 0);
}

TEST(Pacing, AdsServedButNotYetClickedCountAgainstThePace) {
  // At 06:00 the target is 2,700; 2,000 spent.
  std::vector<candidate> all = {standard(1, 10'000, 2'000)};
  int64_t held = 0;
  ASSERT_EQ(within_pace_now(all, 6 * hour, 2, held).size(), 1u);
  EXPECT_EQ(all[0].pacing_target, 2'700);
  EXPECT_FALSE(add_pending_cost(all, 1, 500));  // 2,500 expected
  EXPECT_TRUE(add_pending_cost(all, 1, 300));   // 2,800: past it
  EXPECT_TRUE(within_pace_now(all, 6 * hour, 2, held).empty());
  EXPECT_EQ(held, 1);
  // The ledger tells the spend (its clicks included): the estimate goes.
  advertiser_money money;
  money.advertiser_id = all[0].advertiser_id;
  money.active = true;
  campaign_spend spend;
  spend.campaign_id = 1;
  spend.daily_budget = 10'000;
  spend.total_budget = 1'000'000;
  spend.spent_today = 2'100;
  money.campaigns = {spend};
  money.balance = 1'000'000;
  all[0].balance = 1'000'000;
  all[0].total_budget = 1'000'000;
  apply_money(all, money);
  EXPECT_EQ(all[0].pending_cost, 0);
  EXPECT_EQ(within_pace_now(all, 6 * hour, 2, held).size(), 1u);
  // An ACCELERATED campaign has no pace to keep.
  all[0].standard_delivery = false;
  EXPECT_FALSE(add_pending_cost(all, 1, 1'000'000));
}

TEST(Pacing, OnlyCampaignsPacingAloneKeepsOutCountAsHeldBack) {
  auto paused = standard(1, 10'000, 9'000);
  paused.serving = false;
  auto spent = standard(2, 10'000, 10'000);
  std::vector<candidate> all = {paused, spent};
  int64_t held = 0;
  EXPECT_TRUE(within_pace_now(all, 6 * hour, 2, held).empty());
  EXPECT_EQ(held, 0);
}

TEST(Pacing, AuctionsHearOfAStandardCampaignsSpendAtEveryPercent) {
  EXPECT_FALSE(pace_step_crossed(0, 99, 10'000));
  EXPECT_TRUE(pace_step_crossed(99, 100, 10'000));
  EXPECT_TRUE(pace_step_crossed(0, 5'000, 10'000));
  EXPECT_FALSE(pace_step_crossed(150, 199, 10'000));
  // No overflow near the largest budgets.
  EXPECT_TRUE(pace_step_crossed(INT64_MAX / 2, INT64_MAX / 2 + INT64_MAX / 50, INT64_MAX - 1));
}

TEST(Traffic, CountsGoToTheHourTheyWereSeenIn) {
  std::map<traffic_slot, int64_t> pending;
  std::array<int64_t, 4> seen{10, 0, 5, 0};
  EXPECT_EQ(take_counts(pending, seen, {12, 0, 9, 1}, "2026-12-06", 14, 100), 0);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ((pending[{"2026-12-06", 14, "HOME"}]), 2);
  EXPECT_EQ((pending[{"2026-12-06", 14, "SEARCH"}]), 4);
  EXPECT_EQ((pending[{"2026-12-06", 14, "PRODUCT_DETAIL"}]), 1);
  EXPECT_EQ(seen, (std::array<int64_t, 4>{12, 0, 9, 1}));
  // Nothing new: nothing added.
  take_counts(pending, seen, {12, 0, 9, 1}, "2026-12-06", 15, 100);
  EXPECT_EQ(pending.size(), 3u);
}

TEST(Traffic, WhatCannotBeWrittenIsBoundedOldestFirst) {
  std::map<traffic_slot, int64_t> pending;
  std::array<int64_t, 4> seen{};
  take_counts(pending, seen, {1, 0, 0, 0}, "2026-12-05", 23, 2);
  take_counts(pending, seen, {3, 0, 0, 0}, "2026-12-06", 0, 2);
  auto dropped = take_counts(pending, seen, {6, 0, 0, 0}, "2026-12-06", 1, 2);
  EXPECT_EQ(dropped, 1);  // the 23:00 hour of the day before
  EXPECT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending.count({"2026-12-05", 23, "HOME"}), 0u);
}
