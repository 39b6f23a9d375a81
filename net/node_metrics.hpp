#pragma once
// The node's own figures (protocol/telemetry.hpp) as Prometheus families.
#include "net/metrics.hpp"

namespace adserver::net {

/// Actors by kind and mailbox depth, clicks and money, serving, refusals,
/// PostgreSQL commits, the Redis mirror, Kafka, integrity findings, and the
/// build; all read from counters, O(kinds) per scrape.
void add_node_metrics(metrics_registry& metrics);

/// Build facts: version (CMake project) and build (git commit at configure).
const char* build_version();
const char* build_commit();

}  // namespace adserver::net
