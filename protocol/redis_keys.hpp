#pragma once
// The Redis mirror's keys of money (seed 000), written by the ledgers and
// rebuilt from PostgreSQL by storage/loaders.
#include <cstdint>
#include <string>

namespace adserver {

/// Mirror keys (seed 000): balance:{advertiser_id}, daily_spent:{campaign_id}:{date}.
std::string balance_key(int64_t advertiser_id);
std::string daily_spent_key(int64_t campaign_id, const std::string& date);

}  // namespace adserver
