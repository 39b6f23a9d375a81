#pragma once
#include "protocol/interfaces.hpp"

#include <caf/typed_actor.hpp>

namespace adserver {

/// The I/O actors every state owner talks to, and the dashboards that hear
/// of every impression, click and conversion (null: no dashboards).
struct io_handles {
  pg_writer_actor writer;
  pg_reader_actor reader;
  redis_actor redis;
  kafka_actor kafka;
  dashboards_actor dashboards;
};

}  // namespace adserver
