#pragma once
// Money reconciliation: an advertiser's balance and today's spend as the
// ledger holds them in memory, as PostgreSQL has them (and as the balance
// history adds up), and as the Redis mirror shows them. Pure: the caller
// gathers the figures, this says where they disagree.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace adserver {

struct campaign_money {
  int64_t campaign_id = 0;
  int64_t postgres_spent = 0;                // ad_campaign_daily_spend today
  std::optional<int64_t> memory_spent;      // ledger in memory
  std::optional<std::string> redis_spent;   // daily_spent:{id}:{today}; nullopt: no key
};

struct advertiser_money_sources {
  int64_t advertiser_id = 0;
  int64_t postgres_balance = 0;              // ad_balances.current_balance
  int64_t history_sum = 0;                   // INITIAL/CHARGE minus DEDUCT/CLICK
  std::optional<int64_t> memory_balance;     // ledger in memory
  std::optional<std::string> redis_balance;  // balance:{id}; nullopt: no key
  std::vector<campaign_money> campaigns;
};

struct money_difference {
  int64_t advertiser_id = 0;
  std::string what;         // "balance" or "daily_spent"
  int64_t campaign_id = 0;  // daily_spent only
  std::string key;          // the Redis mirror key
  std::optional<int64_t> memory;
  int64_t postgres = 0;
  std::optional<int64_t> history;  // balance only
  std::optional<std::string> redis;
};

/// Where the sources disagree. A missing daily_spent key agrees with zero
/// spend (the mirror writes it at the first charge of the day).
std::vector<money_difference> reconcile_money(const advertiser_money_sources& s,
                                              const std::string& today);

}  // namespace adserver
