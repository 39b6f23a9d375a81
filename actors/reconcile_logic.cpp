#include "actors/reconcile_logic.hpp"

namespace adserver {

std::vector<money_difference> reconcile_money(const advertiser_money_sources& s,
                                              const std::string& today) {
  std::vector<money_difference> out;
  auto pg = std::to_string(s.postgres_balance);
  bool balance_differs = s.history_sum != s.postgres_balance
                         || (s.memory_balance && *s.memory_balance != s.postgres_balance)
                         || !s.redis_balance || *s.redis_balance != pg;
  if (balance_differs) {
    money_difference d;
    d.advertiser_id = s.advertiser_id;
    d.what = "balance";
    d.key = "balance:" + std::to_string(s.advertiser_id);
    d.memory = s.memory_balance;
    d.postgres = s.postgres_balance;
    d.history = s.history_sum;
    d.redis = s.redis_balance;
    out.push_back(std::move(d));
  }
  for (auto& c : s.campaigns) {
    auto spent = std::to_string(c.postgres_spent);
    bool differs = (c.memory_spent && *c.memory_spent != c.postgres_spent)
                   || (c.redis_spent ? *c.redis_spent != spent : c.postgres_spent != 0);
    if (!differs)
      continue;
    money_difference d;
    d.advertiser_id = s.advertiser_id;
    d.what = "daily_spent";
    d.campaign_id = c.campaign_id;
    d.key = "daily_spent:" + std::to_string(c.campaign_id) + ":" + today;
    d.memory = c.memory_spent;
    d.postgres = c.postgres_spent;
    d.redis = c.redis_spent;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace adserver
