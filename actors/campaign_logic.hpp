#pragma once
// Campaign status rules: PENDING -> ACTIVE (approve), ACTIVE <-> PAUSED,
// anything but ENDED -> ENDED. ENDED is final.
#include "protocol/records.hpp"

#include <caf/expected.hpp>

#include <string>

namespace adserver {

bool is_campaign_status(const std::string& s);

/// The status after asking for `requested` in `current`; asking for the
/// current status is a no-op. CONFLICT for a transition that is not allowed.
caf::expected<std::string> next_status(const std::string& current,
                                       const std::string& requested);

/// What a campaign's ledger needs of it on business day `today`: budgets,
/// dates, whether it serves, its highest bid (spend is the ledger's own).
campaign_spend campaign_limits(const campaign_record& c, const std::string& today);

}  // namespace adserver
