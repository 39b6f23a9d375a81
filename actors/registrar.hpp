#pragma once
// registrar: creates advertisers and campaigns. It checks references (there
// are no foreign keys), writes through pg-writer and tells the owners: the
// new campaign's ledger its limits, the auction router its targeting. The
// entities themselves are activated by the directory on first use, from what
// was written.
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace adserver {

struct registrar_state {
  io_handles io;
  catalog_actor catalog;
  directory_actor directory;
  auction_router_actor auctions;
  int64_t advertisers_created = 0;
  int64_t campaigns_created = 0;
  census_entry census{actor_kind::registrar};
  static inline const char* name = "registrar";
};

registrar_actor::behavior_type registrar(registrar_actor::stateful_pointer<registrar_state> self,
                                         io_handles io, catalog_actor catalog,
                                         directory_actor directory,
                                         auction_router_actor auctions);

}  // namespace adserver
