#pragma once
// Start-up work against PostgreSQL that happens before actors serve.
#include "protocol/interfaces.hpp"

#include <string>

namespace adserver::storage {

/// Sends every advertiser balance and today's campaign spend to the Redis
/// mirror writer, so a mirror that missed changes (Redis down, lost data)
/// is right again. Empty string or the reason.
std::string resync_mirror(const std::string& conninfo, const std::string& time_zone,
                          const redis_actor& redis);

}  // namespace adserver::storage
