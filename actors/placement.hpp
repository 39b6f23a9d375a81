#pragma once
// Which node owns a key: rendezvous (highest random weight) hashing over the
// live members. Every node computes the same owner from the same member set,
// and a membership change moves only the keys of the node that came or went.
#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

/// 64-bit FNV-1a of `node` + '/' + `key`, finalized (splitmix64): stable
/// across processes, builds and machines.
uint64_t placement_score(const std::string& node, const std::string& key);

/// The node of `nodes` with the highest score for `key` (ties: the smaller
/// id); "" when `nodes` is empty.
std::string rendezvous_owner(const std::vector<std::string>& nodes, const std::string& key);

/// The placement key of an advertiser. Its ledger, campaigns and their
/// dashboard windows share it: a click, a budget check or a campaign change
/// never needs two nodes.
std::string advertiser_key(int64_t advertiser_id);

/// The placement key of a session: its experiment codes (the session's shard
/// on the owning node, and the Redis mirror it writes) live on one node.
std::string session_key(const std::string& session_id);

}  // namespace adserver
