#include "protocol/redis_keys.hpp"

namespace adserver {

std::string balance_key(int64_t advertiser_id) {
  return "balance:" + std::to_string(advertiser_id);
}

std::string daily_spent_key(int64_t campaign_id, const std::string& date) {
  return "daily_spent:" + std::to_string(campaign_id) + ":" + date;
}

}  // namespace adserver
