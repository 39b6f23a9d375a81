#pragma once
// The PostgreSQL I/O actors. Spawn them detached: they block in libpq.
#include "actors/interfaces.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace adserver::storage {

class pg_connection;

struct pg_settings {
  std::string conninfo;
  std::string time_zone;
  size_t max_batch_units = 512;
};

struct pg_writer_state {
  struct pending {
    std::vector<pg_statement> unit;
    caf::typed_response_promise<pg_results> promise;
  };
  pg_settings settings;
  std::shared_ptr<pg_connection> conn;
  std::vector<pending> queue;
  bool flush_scheduled = false;
  int64_t commits = 0;
  int64_t units_committed = 0;
  int64_t units_failed = 0;
  int64_t largest_batch = 0;
  static inline const char* name = "pg-writer";
};

pg_writer_actor::behavior_type
pg_writer(pg_writer_actor::stateful_pointer<pg_writer_state> self, pg_settings settings);

struct pg_reader_state {
  pg_settings settings;
  std::shared_ptr<pg_connection> conn;
  int64_t queries = 0;
  int64_t failures = 0;
  static inline const char* name = "pg-reader";
};

pg_reader_actor::behavior_type
pg_reader(pg_reader_actor::stateful_pointer<pg_reader_state> self, pg_settings settings);

}  // namespace adserver::storage
