#pragma once
// integrity: runs the data integrity checks (actors/integrity_logic.hpp) one
// statement at a time on a reporting reader, on a schedule and on demand;
// keeps the last report, publishes counts to /metrics and logs each finding.
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <optional>
#include <vector>

namespace adserver {

struct integrity_settings {
  /// Between scheduled runs; 0: only on demand.
  int64_t interval_seconds = 86400;
  /// The first scheduled run, after start (the node settles first).
  int64_t first_run_seconds = 60;
  /// How long one check may take (the reporting connection's statement
  /// timeout and a margin).
  int64_t check_timeout_ms = 310000;
};

struct integrity_state {
  pg_reader_actor reader;
  integrity_settings settings;
  std::optional<integrity_report> last;
  bool running = false;
  integrity_report current;
  std::vector<caf::typed_response_promise<integrity_report>> waiting;
  int64_t runs = 0;
  int64_t failed_checks = 0;
  census_entry census{actor_kind::integrity};
  static inline const char* name = "integrity";
};

integrity_actor::behavior_type integrity(integrity_actor::stateful_pointer<integrity_state> self,
                                         pg_reader_actor reader, integrity_settings settings);

}  // namespace adserver
