#pragma once
// The Redis mirror writer (detached: blocks in hiredis). Redis is a mirror,
// never the source of truth: while it is down the server keeps working and
// this actor keeps the newest value per key to write once it returns.
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace adserver::storage {

class redis_connection;

struct io_health;

struct redis_settings {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::shared_ptr<io_health> health;  // may be null (tests)
};

struct redis_state {
  struct value {
    std::string data;
    int64_t ttl_seconds = 0;
    bool merge = false;  // a JSON object merged into what is stored
  };
  redis_settings settings;
  std::shared_ptr<redis_connection> conn;
  std::map<std::string, value> pending;  // newest unwritten value per key
  bool merge_refused_logged = false;    // Redis refused a merge script once (logged)
  struct sorted_set {
    std::vector<std::string> members;
    std::vector<double> scores;
  };
  std::map<std::string, sorted_set> pending_zsets;
  struct stream_entry {
    std::string key;
    std::vector<std::string> fields;  // field, value, field, value, ...
    int64_t maxlen = 0;
  };
  /// Stream appends in order; bounded (the oldest go first, counted).
  std::deque<stream_entry> pending_streams;
  static constexpr size_t max_pending_streams = 100000;
  int64_t stream_entries_dropped = 0;
  /// Unix ms since when something has been waiting to be written; 0: none.
  int64_t pending_since_ms = 0;
  bool flush_scheduled = false;
  bool down = false;
  int64_t writes = 0;
  int64_t reads = 0;
  int64_t failures = 0;
  int64_t resyncs = 0;
  census_entry census{actor_kind::redis_writer};
  static inline const char* name = "redis-writer";
};

redis_actor::behavior_type
redis_writer(redis_actor::stateful_pointer<redis_state> self, redis_settings settings);

}  // namespace adserver::storage
