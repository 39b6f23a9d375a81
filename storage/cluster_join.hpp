#pragma once
// Start-up: enter this node in cluster_members before it serves. Blocking
// (libpq); runs once, before the actor system starts.
#include "protocol/records.hpp"

#include <cstdint>
#include <string>

namespace adserver::storage {

/// Registers `me` for `lease_ms`. A live row of another process with the same
/// node id is waited out (it may be this node's previous process, killed
/// moments ago) for at most `wait_ms`. Empty string, or why not.
std::string join_cluster(const std::string& conninfo, const std::string& time_zone,
                         const cluster_member& me, int64_t lease_ms, int64_t wait_ms);

}  // namespace adserver::storage
