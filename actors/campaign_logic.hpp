#pragma once
// Campaign status rules: PENDING -> ACTIVE (approve), ACTIVE <-> PAUSED,
// anything but ENDED -> ENDED. ENDED is final.
#include <caf/expected.hpp>

#include <string>

namespace adserver {

bool is_campaign_status(const std::string& s);

/// The status after asking for `requested` in `current`; asking for the
/// current status is a no-op. CONFLICT for a transition that is not allowed.
caf::expected<std::string> next_status(const std::string& current,
                                       const std::string& requested);

}  // namespace adserver
