#pragma once
// Request deadlines in the actors: work picked up past its deadline is
// dropped with no effect (SPEC.md "Security": every request has a deadline).
#include "actors/business_time.hpp"
#include "actors/errors.hpp"
#include "actors/types.hpp"

#include <algorithm>
#include <chrono>

namespace adserver {

/// True once `d` (not "none") has passed.
inline bool passed(const deadline& d) {
  return d.at_ms != 0 && epoch_millis() >= d.at_ms;
}

/// The answer for work dropped at its deadline (the client has its 503).
inline caf::error deadline_passed() {
  return make_error(ec::unavailable, "request deadline passed; nothing applied");
}

/// How long to wait for an acknowledgement before answering work due at
/// `due`: `limit`, or less, so the answer still goes out before the client
/// is told 503 (<= 0: answer now).
inline std::chrono::milliseconds ack_wait(const deadline& due, std::chrono::milliseconds limit) {
  if (due.at_ms == 0)
    return limit;
  return std::min(limit, std::chrono::milliseconds(due.at_ms - epoch_millis() - 20));
}

}  // namespace adserver
