#pragma once
// Request deadlines in the actors: work picked up past its deadline is
// dropped with no effect (SPEC.md "Security": every request has a deadline).
#include "actors/business_time.hpp"
#include "actors/errors.hpp"
#include "actors/types.hpp"

namespace adserver {

/// True once `d` (not "none") has passed.
inline bool passed(const deadline& d) {
  return d.at_ms != 0 && epoch_millis() >= d.at_ms;
}

/// The answer for work dropped at its deadline (the client has its 503).
inline caf::error deadline_passed() {
  return make_error(ec::unavailable, "request deadline passed; nothing applied");
}

}  // namespace adserver
