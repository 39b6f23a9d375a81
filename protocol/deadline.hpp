#pragma once
// A request's deadline (protocol/records.hpp `deadline`), checked wherever
// work waits: work picked up past it is dropped with no effect (SPEC.md
// "Security": every request has a deadline).
#include "protocol/business_time.hpp"
#include "protocol/records.hpp"

namespace adserver {

/// True once `d` (not "none") has passed.
inline bool passed(const deadline& d) {
  return d.at_ms != 0 && epoch_millis() >= d.at_ms;
}

/// The same against a moment already read (one clock read for a batch).
inline bool passed(const deadline& d, int64_t now_ms) {
  return d.at_ms != 0 && now_ms >= d.at_ms;
}

}  // namespace adserver
