#include "actors/cluster_view.hpp"

#include "actors/placement.hpp"

#include <algorithm>

namespace adserver {

cluster_view::cluster_view(std::string self, bool clustered)
  : self_(std::move(self)), clustered_(clustered), nodes_{self_} {
}

void cluster_view::set_members(std::vector<cluster_member> members) {
  std::lock_guard<std::mutex> guard{mutex_};
  members_ = std::move(members);
  recompute();
}

void cluster_view::recompute() {
  // A member counts once it is live in PostgreSQL and this node reaches its
  // gateway: keys are never placed on a node requests cannot be sent to.
  std::vector<std::string> nodes{self_};
  if (clustered_)
    for (auto& m : members_)
      if (m.live && m.actor_port > 0 && m.node_id != self_ && peers_.count(m.node_id) > 0)
        nodes.push_back(m.node_id);
  std::sort(nodes.begin(), nodes.end());
  if (nodes != nodes_) {
    nodes_ = std::move(nodes);
    ++generation_;
  }
}

std::vector<cluster_member> cluster_view::members() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return members_;
}

std::optional<cluster_member> cluster_view::member(const std::string& node_id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& m : members_)
    if (m.node_id == node_id)
      return m;
  return std::nullopt;
}

std::vector<std::string> cluster_view::placement_nodes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return nodes_;
}

std::string cluster_view::owner_of(const std::string& key) const {
  if (!clustered_)
    return self_;
  std::lock_guard<std::mutex> guard{mutex_};
  return rendezvous_owner(nodes_, key);
}

std::string cluster_view::owner_of_advertiser(int64_t id) const {
  return owner_of(advertiser_key(id));
}

std::string cluster_view::owner_of_session(const std::string& id) const {
  return owner_of(session_key(id));
}

bool cluster_view::settled() const {
  if (!clustered_)
    return true;
  std::lock_guard<std::mutex> guard{mutex_};
  return settled_;
}

void cluster_view::mark_settled() {
  std::lock_guard<std::mutex> guard{mutex_};
  settled_ = true;
}

uint64_t cluster_view::generation() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return generation_;
}

void cluster_view::set_peer(const std::string& node_id, node_gateway_actor gateway) {
  std::lock_guard<std::mutex> guard{mutex_};
  peers_[node_id] = std::move(gateway);
  recompute();
}

void cluster_view::drop_peer(const std::string& node_id, const caf::actor_addr& gateway) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = peers_.find(node_id);
  if (it != peers_.end() && it->second.address() == gateway) {
    peers_.erase(it);
    recompute();
  }
}

node_gateway_actor cluster_view::peer(const std::string& node_id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = peers_.find(node_id);
  return it == peers_.end() ? node_gateway_actor{} : it->second;
}

std::map<std::string, node_gateway_actor> cluster_view::peers() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return peers_;
}

std::vector<node_gateway_actor> cluster_view::peer_gateways() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<node_gateway_actor> out;
  out.reserve(peers_.size());
  for (auto& [node, gateway] : peers_)
    out.push_back(gateway);
  return out;
}

}  // namespace adserver
