#pragma once
#include "actors/interfaces.hpp"

#include <caf/typed_actor.hpp>

namespace adserver {

/// The I/O actors every state owner talks to.
struct io_handles {
  pg_writer_actor writer;
  pg_reader_actor reader;
  redis_actor redis;
  kafka_actor kafka;
};

}  // namespace adserver
