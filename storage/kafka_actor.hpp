#pragma once
// Kafka: the embedded mock cluster (default) and the producer actor.
#include "actors/interfaces.hpp"

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
  std::string spool_path;
  int message_timeout_ms = 10000;
};

struct kafka_state;

/// Producer actor: idempotent producer with delivery reports; what cannot be
/// delivered goes to the spool and is replayed in order when brokers return.
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
