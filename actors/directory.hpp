#pragma once
// The directory places the node's entity actors, advertiser ledgers and
// campaigns: it finds them by key, activates them from PostgreSQL on first
// use (concurrent first uses share one activation), passivates idle ones, and
// passes work on to them. It is the one place that knows where an entity
// lives, so clustering can place entities on other nodes behind the same
// interface. Auctions are the auction router's; creation is the registrar's.
#include "actors/campaign.hpp"
#include "actors/cluster_view.hpp"
#include "actors/io_handles.hpp"
#include "actors/ledger.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <map>
#include <vector>

namespace adserver {

struct directory_state {
  io_handles io;
  auction_router_actor auctions;
  std::map<int64_t, ledger_actor> ledgers;
  std::map<int64_t, campaign_actor> campaigns;
  ledger_settings ledgers_config;
  campaign_settings campaigns_config;
  int64_t passivated = 0;  // idle ledgers and campaigns retired
  std::map<int64_t, std::vector<caf::typed_response_promise<ledger_actor>>> ledger_waiters;
  std::map<int64_t, std::vector<caf::typed_response_promise<campaign_actor>>> campaign_waiters;
  int64_t activations = 0;
  /// Placement (null: single node, every entity is this node's). When the
  /// members change, the entities another node now owns are retired here:
  /// a ledger frees its lease for the new owner, a campaign's memory goes.
  std::shared_ptr<const cluster_view> cluster;
  int64_t polls = 0;
  std::map<int64_t, int64_t> campaign_advertiser;  // active campaign -> its advertiser
  int64_t moved = 0;  // entities retired because another node owns them now
  census_entry census{actor_kind::directory};
  static inline const char* name = "directory";
  /// The entity actors live as long as the directory that placed them: CAF
  /// destroys the state when the directory exits (at shutdown), so this
  /// stops them too (an entity kept alive by its own timer would otherwise
  /// keep the actor system, and the process, from ending).
  ~directory_state();
};

directory_actor::behavior_type directory(directory_actor::stateful_pointer<directory_state> self,
                                         io_handles io, auction_router_actor auctions,
                                         ledger_settings ledgers_config,
                                         campaign_settings campaigns_config,
                                         std::shared_ptr<const cluster_view> cluster);

}  // namespace adserver
