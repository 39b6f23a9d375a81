#pragma once
// The PostgreSQL I/O actors. Spawn them detached: they block in libpq.
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <atomic>
#include <chrono>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace adserver::storage {

class pg_connection;

struct io_health;

/// What a pg-writer serves, which decides what it reports and maintains.
enum class writer_role {
  money,       // money and entities: readiness, commit metrics, idempotency expiry
  counters,    // dashboards and traffic, flushed in bulk
  membership,  // heartbeats
};

struct pg_settings {
  std::string conninfo;
  std::string time_zone;
  size_t max_batch_units = 512;
  /// Bounds every statement (server- and client-side): a dead or hung
  /// database costs a write at most this long.
  int64_t statement_timeout_ms = 2000;
  /// Units waiting for the writer; beyond it writes fail at once (503).
  size_t max_queued_units = 20000;
  /// How long a unit that finds the writer idle waits for others before a
  /// commit starts (0: at once); what arrives during a commit waits for the
  /// next one the same way, and a full batch (max_batch_units) goes at once.
  /// Only the counters writer lingers: dashboard windows and traffic counts
  /// then share a few commits a second.
  int64_t linger_ms = 0;
  std::shared_ptr<io_health> health;  // may be null (tests)
  writer_role role = writer_role::money;
};

/// A connection with a "down" state: after a failure it is re-established
/// no more often than the back-off allows (100 ms doubling to 5 s), and
/// until then work fails at once instead of waiting for a connect.
struct pg_link {
  std::shared_ptr<pg_connection> conn;
  bool down = false;
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::milliseconds backoff{100};
  std::chrono::steady_clock::time_point last_ok{};
  std::string last_error;
  int64_t reconnects = 0;
  std::atomic<bool>* up_flag = nullptr;
  /// Creates the connection and tries it once; `flag` mirrors up/down;
  /// `generic_plans` for a writer (pg_connection::use_generic_plans).
  void open(const pg_settings& settings, std::atomic<bool>* flag, bool generic_plans = false);
  /// Connected, or why not (fails at once while backing off).
  bool ensure(std::string& err);
  /// The connection broke: reconnect on next use, then back off.
  void lost(const std::string& why);
  /// Called every second: reconnect while down, check an idle connection.
  void tick();
};

struct pg_writer_state {
  struct pending {
    std::vector<pg_statement> unit;
    caf::typed_response_promise<pg_results> promise;
    deadline due;
    idempotency_ticket ticket;
  };
  pg_settings settings;
  pg_link link;
  std::vector<pending> queue;
  bool flush_scheduled = false;
  int64_t commits = 0;
  int64_t units_committed = 0;
  int64_t units_failed = 0;
  int64_t units_expired = 0;   // dropped unrun: their deadline had passed
  int64_t units_refused = 0;   // queue full
  int64_t largest_batch = 0;
  int64_t ticks = 0;
  census_entry census{actor_kind::pg_writer};
  static inline const char* name = "pg-writer";
};

pg_writer_actor::behavior_type
pg_writer(pg_writer_actor::stateful_pointer<pg_writer_state> self, pg_settings settings);

struct pg_reader_state {
  pg_settings settings;
  pg_link link;
  int64_t queries = 0;
  int64_t failures = 0;
  census_entry census{actor_kind::pg_reader};
  static inline const char* name = "pg-reader";
};

pg_reader_actor::behavior_type
pg_reader(pg_reader_actor::stateful_pointer<pg_reader_state> self, pg_settings settings);

}  // namespace adserver::storage
