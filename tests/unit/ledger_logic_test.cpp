#include "actors/ledger_logic.hpp"
#include "protocol/errors.hpp"

#include <gtest/gtest.h>

using namespace adserver;

TEST(LedgerLogic, ChargeAdds) {
  auto p = plan_balance_change(1000, {"charge", 500, ""});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->balance_before, 1000);
  EXPECT_EQ(p->balance_after, 1500);
  EXPECT_EQ(p->transaction_type, "CHARGE");
}

TEST(LedgerLogic, DeductToExactlyZero) {
  auto p = plan_balance_change(500, {"deduct", 500, ""});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->balance_after, 0);
  EXPECT_EQ(p->transaction_type, "DEDUCT");
}

TEST(LedgerLogic, DeductBelowZeroIsRefusedWithTheBalance) {
  auto p = plan_balance_change(499, {"deduct", 500, ""});
  ASSERT_FALSE(p);
  auto v = view(p.error());
  EXPECT_EQ(v.code, ec::insufficient_balance);
  EXPECT_EQ(v.details_json, "{\"balance\":499,\"requested\":500}");
}

TEST(LedgerLogic, RejectsNonPositiveAndUnknownActions) {
  EXPECT_EQ(view(plan_balance_change(10, {"charge", 0, ""}).error()).code,
            ec::validation_failed);
  EXPECT_EQ(view(plan_balance_change(10, {"charge", -5, ""}).error()).code,
            ec::validation_failed);
  EXPECT_EQ(view(plan_balance_change(10, {"refund", 5, ""}).error()).code,
            ec::validation_failed);
}

TEST(LedgerLogic, DayRollResetsOnlyTodaysSpend) {
  campaign_spend s{7, 1000, 5000, 900, 3000, "2026-11-23"};
  auto rolled = roll_to_day(s, "2026-11-24");
  EXPECT_EQ(rolled.spent_today, 0);
  EXPECT_EQ(rolled.spent_total, 3000);
  EXPECT_EQ(roll_to_day(s, "2026-11-23").spent_today, 900);
}

TEST(LedgerLogic, BudgetViewNeverNegative) {
  campaign_spend s{7, 1000, 5000, 1200, 5100, "2026-11-24"};
  auto v = make_budget_view(s);
  EXPECT_EQ(v.remaining_today, 0);
  EXPECT_EQ(v.remaining_total, 0);
}

TEST(LedgerLogic, AuctionsHearOfMoneyOnlyBelowTheHighestBid) {
  campaign_spend clicked;
  clicked.campaign_id = 1;
  clicked.daily_budget = 10000;
  clicked.total_budget = 100000;
  clicked.spent_today = 1000;
  clicked.spent_total = 1000;
  clicked.max_bid = 500;
  campaign_spend other = clicked;
  other.campaign_id = 2;
  other.max_bid = 3000;
  std::map<int64_t, campaign_spend> campaigns{{1, clicked}};
  EXPECT_FALSE(may_leave_ranking(5000, clicked, 500, campaigns));
  EXPECT_TRUE(may_leave_ranking(499, clicked, 500, campaigns));
  // Another campaign bids 3000: a balance below that may price it out.
  campaigns[2] = other;
  EXPECT_TRUE(may_leave_ranking(2999, clicked, 500, campaigns));
  EXPECT_FALSE(may_leave_ranking(3000, clicked, 500, campaigns));
  // This campaign's daily or total budget nearly spent.
  clicked.spent_today = 9600;
  EXPECT_TRUE(may_leave_ranking(5000, clicked, 500, campaigns));
  clicked.spent_today = 1000;
  clicked.spent_total = 99600;
  EXPECT_TRUE(may_leave_ranking(5000, clicked, 500, campaigns));
  // The token's bid counts even when the ledger has not learned the bids.
  clicked.spent_total = 1000;
  clicked.max_bid = 0;
  EXPECT_TRUE(may_leave_ranking(600, clicked, 700, {}));
}

TEST(LedgerLogic, ClicksOnCampaignsNoLongerServingAreInactive) {
  campaign_spend s;
  s.campaign_id = 1;
  s.daily_budget = 10'000;
  s.total_budget = 100'000;
  s.start_date = "2026-01-01";
  s.end_date = "2026-12-31";
  EXPECT_EQ(click_refusal(false, &s, 5000, 900, "2026-06-01"), "");
  EXPECT_EQ(click_refusal(true, &s, 5000, 900, "2026-06-01"), "DUPLICATE_CLICK");
  EXPECT_EQ(click_refusal(false, nullptr, 5000, 900, "2026-06-01"), "CAMPAIGN_INACTIVE");
  EXPECT_EQ(click_refusal(false, &s, 5000, 900, "2027-01-01"), "CAMPAIGN_INACTIVE");
  EXPECT_EQ(click_refusal(false, &s, 5000, 900, "2025-12-31"), "CAMPAIGN_INACTIVE");
  s.serving = false;
  EXPECT_EQ(click_refusal(false, &s, 5000, 900, "2026-06-01"), "CAMPAIGN_INACTIVE");
  s.serving = true;
  s.spent_today = 9'500;
  EXPECT_EQ(click_refusal(false, &s, 5000, 900, "2026-06-01"), "BUDGET_EXHAUSTED");
  s.spent_today = 0;
  EXPECT_EQ(click_refusal(false, &s, 800, 900, "2026-06-01"), "INSUFFICIENT_BALANCE");
}
