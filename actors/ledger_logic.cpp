#include "actors/ledger_logic.hpp"

#include "actors/validation.hpp"
#include "protocol/errors.hpp"

#include <algorithm>

namespace adserver {

caf::expected<planned_change> plan_balance_change(int64_t balance,
                                                  const balance_change& change) {
  if (auto err = validate(change))
    return err;
  planned_change out;
  out.balance_before = balance;
  out.amount = change.amount;
  if (change.action == "charge") {
    if (balance > max_money * 1000 - change.amount)
      return validation_error("amount", "balance would exceed the supported maximum");
    out.balance_after = balance + change.amount;
    out.transaction_type = "CHARGE";
  } else {
    if (change.amount > balance)
      return make_error(ec::insufficient_balance,
                        "balance " + std::to_string(balance)
                          + " is less than the deduct amount "
                          + std::to_string(change.amount),
                        "{\"balance\":" + std::to_string(balance)
                          + ",\"requested\":" + std::to_string(change.amount) + "}");
    out.balance_after = balance - change.amount;
    out.transaction_type = "DEDUCT";
  }
  return out;
}

std::string click_refusal(bool duplicate, const campaign_spend* spend, int64_t balance,
                          int64_t price, const std::string& today) {
  if (duplicate)
    return "DUPLICATE_CLICK";
  if (spend == nullptr || !spend->serving
      || (!spend->start_date.empty() && today < spend->start_date)
      || (!spend->end_date.empty() && today > spend->end_date))
    return "CAMPAIGN_INACTIVE";
  if (spend->spent_today + price > spend->daily_budget
      || spend->spent_total + price > spend->total_budget)
    return "BUDGET_EXHAUSTED";
  if (balance < price)
    return "INSUFFICIENT_BALANCE";
  return {};
}

bool may_leave_ranking(int64_t balance_after, const campaign_spend& charged,
                       int64_t clicked_bid, const std::map<int64_t, campaign_spend>& campaigns) {
  auto campaign_bid = std::max(charged.max_bid, clicked_bid);
  auto advertiser_bid = campaign_bid;
  for (auto& [id, other] : campaigns)
    advertiser_bid = std::max(advertiser_bid, other.max_bid);
  return balance_after < advertiser_bid
         || charged.daily_budget - charged.spent_today < campaign_bid
         || charged.total_budget - charged.spent_total < campaign_bid;
}

bool pace_step_crossed(int64_t spent_before, int64_t spent_after, int64_t daily_budget) {
  if (daily_budget <= 0)
    return spent_after != spent_before;
  // In 128-bit: spend x 100 of a budget near INT64_MAX must not overflow.
  auto step = [&](int64_t spent) {
    return static_cast<__int128>(spent) * 100 / daily_budget;
  };
  return step(spent_before) != step(spent_after);
}

campaign_spend roll_to_day(campaign_spend spend, const std::string& today) {
  if (spend.day != today) {
    spend.day = today;
    spend.spent_today = 0;
  }
  return spend;
}

budget_view make_budget_view(const campaign_spend& spend) {
  budget_view out;
  out.campaign_id = spend.campaign_id;
  out.daily_budget = spend.daily_budget;
  out.spent_today = spend.spent_today;
  out.remaining_today = std::max<int64_t>(0, spend.daily_budget - spend.spent_today);
  out.total_budget = spend.total_budget;
  out.spent_total = spend.spent_total;
  out.remaining_total = std::max<int64_t>(0, spend.total_budget - spend.spent_total);
  return out;
}

}  // namespace adserver
