#pragma once
// The dashboard stream reader (protocol/interfaces.hpp): detached, owns one
// blocking Redis connection.
#include "protocol/interfaces.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace adserver::storage {

class redis_connection;

struct stream_reader_settings {
  std::string host = "127.0.0.1";
  int port = 6379;
  size_t max_subscribers = 100000;
};

/// "1700000000000-3" < "1700000000000-12": stream ids compare as numbers.
bool stream_id_less(const std::string& a, const std::string& b);

struct stream_reader_state {
  stream_reader_settings settings;
  std::shared_ptr<redis_connection> conn;
  /// Subscribers by stream key.
  std::unordered_map<std::string, std::vector<stream_subscriber>> subscribers;
  size_t count = 0;  // subscribers over all keys (as of the last read)
  bool polling = false;
  bool down = false;
  int64_t delivered = 0;
  int64_t reads = 0;
  int64_t failures = 0;
  int64_t refused = 0;
  census_entry census{actor_kind::stream_reader};
  static inline const char* name = "stream-reader";
};

stream_reader_actor::behavior_type
stream_reader(stream_reader_actor::stateful_pointer<stream_reader_state> self,
              stream_reader_settings settings);

}  // namespace adserver::storage
