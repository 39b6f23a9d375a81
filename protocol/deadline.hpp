#pragma once
// A request's deadline (protocol/records.hpp `deadline`), checked wherever
// work waits: work picked up past it is dropped with no effect (SPEC.md
// "Security": every request has a deadline).
#include "protocol/business_time.hpp"
#include "protocol/records.hpp"

namespace adserver {

/// True once `d` (not "none") has passed by `now_ms` (a batch reads the
/// clock once for all its units).
inline bool passed(const deadline& d, int64_t now_ms) {
  return d.at_ms != 0 && now_ms >= d.at_ms;
}

/// True once `d` (not "none") has passed.
inline bool passed(const deadline& d) {
  return passed(d, epoch_millis());
}

}  // namespace adserver
