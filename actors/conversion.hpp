#pragma once
// conversions: attributes each product of an order to the same device's last
// click on it within the attribution window (experiment codes mapped back to
// the original through the click), stores it once per (order, product) and
// publishes conversion-events for what was new.
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace adserver {

struct conversion_state {
  io_handles io;
  int64_t window_hours = 24;
  int64_t counted = 0;
  int64_t repeated = 0;
  int64_t attributed = 0;
  census_entry census{actor_kind::conversions};
  static inline const char* name = "conversions";
};

conversion_actor::behavior_type
conversions(conversion_actor::stateful_pointer<conversion_state> self, io_handles io,
            int64_t window_hours);

}  // namespace adserver
