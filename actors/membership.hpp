#pragma once
// membership: keeps this node in cluster_members (a heartbeat every
// cluster.heartbeat_ms pushes its expiry cluster.lease_ms ahead) and reads
// every member back into the cluster view that placement and forwarding use.
// A node whose row expired is dead to the others: its ledger leases may be
// taken (docs/cluster.md).
#include "actors/cluster_view.hpp"
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace adserver {

struct membership_settings {
  cluster_member self;  // node_id, incarnation, http_url, actor_host, actor_port
  int64_t heartbeat_ms = 1000;
  int64_t lease_ms = 3000;
};

struct membership_state {
  membership_settings settings;
  pg_writer_actor db;  // a connection of its own
  std::shared_ptr<cluster_view> view;
  std::vector<cluster_member> members;
  bool beating = false;          // a heartbeat is in flight
  bool registered = true;        // false: the next heartbeat writes the whole row
  bool lost = false;             // our row was gone (logged once)
  int64_t heartbeats = 0;
  int64_t heartbeats_failed = 0;
  int64_t last_heartbeat_ms = 0; // Unix ms of the last renewal that committed
  std::set<std::string> connecting;               // peers being connected
  std::set<std::string> not_peers;                // members found to be this node
  std::map<caf::actor_addr, std::string> peer_of;  // monitored gateway -> node
  int64_t peers_connected = 0;
  int64_t peers_lost = 0;
  census_entry census{actor_kind::membership};
  static inline const char* name = "membership";
};

membership_actor::behavior_type
membership(membership_actor::stateful_pointer<membership_state> self, pg_writer_actor db,
           std::shared_ptr<cluster_view> view, membership_settings settings);

}  // namespace adserver
