#pragma once
// Product metadata (ad_products_meta): reference data that campaigns and ad
// serving look up; cached after the first read.
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>

namespace adserver {

struct catalog_state {
  std::map<std::string, product_record> products;
  io_handles io;
  int64_t created = 0;
  census_entry census{actor_kind::catalog};
  static inline const char* name = "product-catalog";
};

catalog_actor::behavior_type catalog(catalog_actor::stateful_pointer<catalog_state> self,
                                     io_handles io);

}  // namespace adserver
