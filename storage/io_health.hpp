#pragma once
// Whether the I/O actors can reach their services, as they last saw it.
// Written by the I/O actors, read by /readyz and monitoring without a
// message round trip or a query per probe (a dead database never blocks a
// probe).
#include <atomic>

namespace adserver::storage {

struct io_health {
  std::atomic<bool> postgres_writer{false};
  std::atomic<bool> postgres_reader{false};
  std::atomic<bool> postgres_counters{false};  // the dashboards' and traffic's writer
  std::atomic<bool> redis{false};
};

}  // namespace adserver::storage
