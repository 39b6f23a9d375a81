#pragma once
// Kafka: the embedded mock cluster (default) and the producer actor.
#include "protocol/interfaces.hpp"
#include "storage/event_log_gauge.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace adserver::storage {

/// The event topics of seed 000.
const std::vector<std::string>& event_topics();

/// librdkafka's in-process mock cluster: a real Kafka protocol peer on a
/// loopback port (kcat can read it). Lives as long as this object.
class embedded_kafka {
public:
  ~embedded_kafka();
  /// Starts it with the event topics created. Null and `err` on failure.
  static std::unique_ptr<embedded_kafka> start(int partitions, std::string& err);
  const std::string& bootstrap() const { return bootstrap_; }
  /// Takes the broker down or up (outage tests and drills).
  void set_available(bool up);

private:
  embedded_kafka() = default;
  void* rk_ = nullptr;
  void* cluster_ = nullptr;
  std::string bootstrap_;
};

struct kafka_settings {
  std::string brokers;
  /// The spool; dead letters go to spool_path + ".dead".
  std::string spool_path;
  int message_timeout_ms = 10000;
  /// The producer's message.max.bytes: a larger event (key + payload) is
  /// dead-lettered at once ("too large").
  int64_t max_message_bytes = 1000000;
  /// Undelivered bytes the spool may hold; beyond, events are dead-lettered
  /// ("spool full") and the gauge says spool_full.
  int64_t spool_max_bytes = int64_t{256} << 20;
  /// Shared with the HTTP layer; the producer creates one when null.
  std::shared_ptr<event_log_gauge> gauge;
};

struct kafka_state;

/// Producer actor: idempotent producer with delivery reports; what cannot be
/// delivered now (retriable errors) goes to the spool and is replayed in order
/// when brokers return; what Kafka refuses for good (too large, invalid topic,
/// any non-retriable error) goes to the dead-letter file and never holds up
/// the events behind it.
kafka_actor::behavior_type
kafka_producer(kafka_actor::stateful_pointer<kafka_state> self, kafka_settings settings);

}  // namespace adserver::storage

namespace caf {
class actor_system;
}

namespace adserver::storage {

/// Spawns the producer on its own thread (spool writes block).
kafka_actor spawn_kafka_producer(caf::actor_system& sys, kafka_settings settings);

}  // namespace adserver::storage
