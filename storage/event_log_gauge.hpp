#pragma once
// What the Kafka producer tells the HTTP layer without an actor round trip.
// The producer writes it; request handlers only read it. Shared by
// std::shared_ptr between kafka_settings and net::app_context.
#include <atomic>
#include <cstdint>

namespace adserver::storage {

struct event_log_gauge {
  /// The spool cannot keep more events (its cap is reached, or its writes
  /// fail while Kafka is unavailable): tracking endpoints answer 503.
  std::atomic<bool> spool_full{false};
  /// Undelivered bytes waiting in the spool.
  std::atomic<int64_t> spool_bytes{0};
  /// Events written to the dead-letter file since start.
  std::atomic<int64_t> dead_letters{0};
};

}  // namespace adserver::storage
