#pragma once
// Ledger arithmetic, free of actors and I/O.
#include "protocol/records.hpp"

#include <caf/expected.hpp>

namespace adserver {

struct planned_change {
  int64_t balance_before = 0;
  int64_t balance_after = 0;
  int64_t amount = 0;
  std::string transaction_type;  // CHARGE | DEDUCT
};

/// The effect of an admin balance change on `balance`, or why it is refused:
/// VALIDATION_FAILED, or INSUFFICIENT_BALANCE (details carry the balance) when
/// a deduct would go below zero.
caf::expected<planned_change> plan_balance_change(int64_t balance,
                                                  const balance_change& change);

/// Why a click is not charged, or empty when it is: DUPLICATE_CLICK,
/// CAMPAIGN_INACTIVE (paused, ended, deleted, outside its dates on `today`,
/// or unknown to the ledger: tokens are only issued for campaigns that
/// existed), BUDGET_EXHAUSTED (daily or total budget would be exceeded),
/// INSUFFICIENT_BALANCE.
std::string click_refusal(bool duplicate, const campaign_spend* spend, int64_t balance,
                          int64_t price, const std::string& today);

/// Did a STANDARD campaign's spend today pass a whole percent of its daily
/// budget? Then auctions hear of its money (pacing needs its spend; telling
/// them of every click would cost a re-rank per click).
bool pace_step_crossed(int64_t spent_before, int64_t spent_after, int64_t daily_budget);

/// After charging `charged` (a click on an ad bidding `clicked_bid`): could
/// one of the advertiser's ads have become unaffordable? An ad's expected
/// cost never exceeds its bid, so only a balance below the advertiser's
/// highest bid, or this campaign's remaining budget below its own highest
/// bid, can take an ad out of the ranking; then auctions must re-rank.
bool may_leave_ranking(int64_t balance_after, const campaign_spend& charged,
                       int64_t clicked_bid, const std::map<int64_t, campaign_spend>& campaigns);

/// Resets spent_today when the business day changed since it was counted.
campaign_spend roll_to_day(campaign_spend spend, const std::string& today);

/// Budget figures as the API shows them; remaining never below zero.
budget_view make_budget_view(const campaign_spend& spend);

}  // namespace adserver
