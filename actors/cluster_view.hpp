#pragma once
// This node's view of the cluster, written by the membership actor and read
// by HTTP threads (which node owns an entity, where to forward). A mutex
// guards a small snapshot; readers copy what they need.
#include "protocol/interfaces.hpp"
#include "protocol/records.hpp"

#include <caf/typed_actor.hpp>

#include <map>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace adserver {

class cluster_view {
public:
  /// `clustered`: this node takes peers (cluster.actor_port > 0); otherwise
  /// it owns every key whatever the members table says.
  cluster_view(std::string self, bool clustered);

  const std::string& self() const { return self_; }
  bool clustered() const { return clustered_; }

  /// Every row of cluster_members, as last read.
  void set_members(std::vector<cluster_member> members);
  std::vector<cluster_member> members() const;
  /// The member row of `node_id`, if listed.
  std::optional<cluster_member> member(const std::string& node_id) const;

  /// The nodes keys are placed on: this node, and the live members that take
  /// peers (actor_port > 0) and whose gateway this node reaches, when this
  /// one takes peers too. Sorted.
  std::vector<std::string> placement_nodes() const;
  /// The node owning placement key `key` (placement.hpp).
  std::string owner_of(const std::string& key) const;
  /// The node owning advertiser `id` (and its campaigns).
  std::string owner_of_advertiser(int64_t id) const;
  /// The node owning session `id`'s experiment codes.
  std::string owner_of_session(const std::string& id) const;
  /// True once the members have been read and the first connections to them
  /// tried (or this node takes no peers): until then this node would place
  /// every key on itself, so /readyz says not ready.
  bool settled() const;
  void mark_settled();
  /// Changes whenever the placement nodes change.
  uint64_t generation() const;

  /// A peer's gateway, once connected over the middleman (the membership
  /// actor connects and forgets them).
  void set_peer(const std::string& node_id, node_gateway_actor gateway);
  void drop_peer(const std::string& node_id, const caf::actor_addr& gateway);
  /// Null when not connected.
  node_gateway_actor peer(const std::string& node_id) const;
  std::map<std::string, node_gateway_actor> peers() const;
  /// The peers' gateways alone.
  std::vector<node_gateway_actor> peer_gateways() const;

private:
  void recompute();  // nodes_ from members_ and peers_; under the lock
  std::string self_;
  bool clustered_;
  mutable std::mutex mutex_;
  std::vector<cluster_member> members_;
  std::vector<std::string> nodes_;
  uint64_t generation_ = 0;
  bool settled_ = false;
  std::map<std::string, node_gateway_actor> peers_;
};

}  // namespace adserver
