#pragma once
// The directory finds entity actors by key, activating them from PostgreSQL on
// first use (concurrent first uses share one activation), and creates new
// entities. It is the one place that knows where an entity lives, so
// clustering can later place entities on other nodes behind the same interface.
#include "actors/auction.hpp"
#include "actors/campaign.hpp"
#include "actors/io_handles.hpp"
#include "actors/ledger.hpp"
#include "actors/targeting_index.hpp"
#include "actors/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <set>
#include <vector>

namespace adserver {

struct directory_state {
  io_handles io;
  catalog_actor catalog;
  std::map<int64_t, ledger_actor> ledgers;
  std::map<int64_t, campaign_actor> campaigns;
  std::map<std::string, auction_actor> auctions;
  auction_settings auctions_config;
  ledger_settings ledgers_config;
  campaign_settings campaigns_config;
  /// Which auctions hold an advertiser's campaigns (money changes go there),
  /// and what each auction named last.
  std::map<int64_t, std::set<std::string>> money_watchers;
  std::map<std::string, std::vector<int64_t>> watched_by;
  /// What campaigns target; requests nothing can match get no auction.
  targeting_index targeting;
  bool targeting_loaded = false;
  int64_t unmatched = 0;  // requests answered without an auction
  int64_t retired = 0;    // idle auctions retired
  int64_t passivated = 0;  // idle ledgers and campaigns retired
  std::map<int64_t, std::vector<caf::typed_response_promise<ledger_actor>>> ledger_waiters;
  std::map<int64_t, std::vector<caf::typed_response_promise<campaign_actor>>> campaign_waiters;
  int64_t activations = 0;
  census_entry census{actor_kind::directory};
  static inline const char* name = "directory";
  /// The entity actors live as long as the directory that placed them: CAF
  /// destroys the state when the directory exits (at shutdown), so this
  /// stops them too (an entity kept alive by its own timer would otherwise
  /// keep the actor system, and the process, from ending).
  ~directory_state();
};

directory_actor::behavior_type directory(directory_actor::stateful_pointer<directory_state> self,
                                         io_handles io, catalog_actor catalog,
                                         auction_settings auctions_config,
                                         ledger_settings ledgers_config,
                                         campaign_settings campaigns_config);

}  // namespace adserver
