#pragma once
// auction-router: spawns the node's auctions on first use and retires idle
// ones, keeps what campaigns target, and passes money and campaign changes on
// to the auctions they concern. It publishes its table (auction_routes) so
// that I/O threads send ad requests straight to running auctions: serving
// never queues behind this actor, let alone behind entity activation.
#include "actors/auction.hpp"
#include "actors/auction_routes.hpp"
#include "actors/cluster_view.hpp"
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <memory>
#include <set>
#include <vector>

namespace adserver {

struct auction_router_state {
  io_handles io;
  auction_settings settings;
  std::shared_ptr<auction_routes> routes;
  /// The peers whose auctions hear this node's changes (null: single node).
  std::shared_ptr<const cluster_view> cluster;
  int64_t sent_to_peers = 0;     // changes sent to peers' gateways
  int64_t heard_from_peers = 0;  // changes peers sent
  std::map<std::string, auction_actor> auctions;
  /// Which auctions hold an advertiser's campaigns (money changes go there),
  /// and what each auction named last.
  std::map<int64_t, std::set<std::string>> money_watchers;
  std::map<std::string, std::vector<int64_t>> watched_by;
  int64_t spawned = 0;
  int64_t retired = 0;  // idle auctions retired
  int64_t failed = 0;   // auctions that ended without retiring
  census_entry census{actor_kind::auction_router};
  static inline const char* name = "auction-router";
  /// The auctions live as long as the router that placed them (an auction
  /// kept alive by its own timers would keep the process from ending).
  ~auction_router_state();
};

auction_router_actor::behavior_type
auction_router(auction_router_actor::stateful_pointer<auction_router_state> self, io_handles io,
               auction_settings settings, std::shared_ptr<auction_routes> routes,
               std::shared_ptr<const cluster_view> cluster);

}  // namespace adserver
