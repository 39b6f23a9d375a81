#pragma once
// What route handlers may reach: the bridge and the actors' handles. No
// business state lives in net/.
#include "actors/io_handles.hpp"
#include "config/settings.hpp"
#include "net/bridge.hpp"
#include "net/rate_limiter.hpp"
#include "storage/event_log_gauge.hpp"
#include "storage/io_health.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace adserver {
class auction_routes;
class cluster_view;
}

namespace adserver::net {

class metrics_registry;
class telemetry_window;

struct app_context {
  const actor_bridge* bridge = nullptr;
  directory_actor directory;
  catalog_actor catalog;
  conversion_actor conversions;
  experiments_actor experiments;
  io_handles io;
  const settings* config = nullptr;
  rate_limiter* device_limit = nullptr;
  rate_limiter* address_limit = nullptr;
  std::shared_ptr<storage::io_health> health;
  /// The Kafka producer's spool state (null: no event log to guard).
  std::shared_ptr<const storage::event_log_gauge> event_log;
  /// Follows dashboard Redis Streams for SSE clients (null: no streams).
  stream_reader_actor streams;
  /// pg-readers of the dashboard queries (dashboards.readers), taken in turn,
  /// so reporting never queues behind (or in front of) the serving path's
  /// reads; empty: io.reader.
  std::vector<pg_reader_actor> dashboard_readers;
  std::shared_ptr<std::atomic<size_t>> next_dashboard_reader =
    std::make_shared<std::atomic<size_t>>(0);
  // -- operations (null/empty where a test does not need them) ------------
  /// The Kafka bootstrap servers the node publishes to (the embedded
  /// cluster's address when kafka.brokers = embedded): adctl events tail.
  std::string kafka_brokers;
  /// This node's name (node.name) and when it started.
  std::string node_name;
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
  /// Requests per route (the realtime view's percentiles).
  std::shared_ptr<const metrics_registry> metrics;
  /// The node's counters a minute ago (the realtime view's rates).
  std::shared_ptr<const telemetry_window> recent;
  integrity_actor integrity;
  /// The reporting connection (integrity checks, reconciliation): long
  /// reads with their own statement timeout; null: dashboard_reader().
  pg_reader_actor reporting_reader;
  /// Hourly traffic curves (pacing targets on dashboards); null: uniform.
  traffic_actor traffic;
  /// The writer of dashboard windows and traffic counts (null: io.writer).
  pg_writer_actor counters_writer;
  /// Places and retires auctions; ad requests whose auction is not running.
  auction_router_actor auction_router;
  /// The running auctions, for sending ad requests straight to them (null:
  /// every request goes to the auction router).
  std::shared_ptr<const auction_routes> running_auctions;
  /// Creates advertisers and campaigns.
  registrar_actor registrar;
  /// This node's cluster membership and its view of the members (null:
  /// tests without a cluster).
  membership_actor membership;
  std::shared_ptr<const cluster_view> cluster;
  /// The session-experiment shards (session inspection).
  std::vector<session_experiment_actor> session_shards;

  pg_reader_actor dashboard_reader() const {
    if (dashboard_readers.empty())
      return io.reader;
    return dashboard_readers[next_dashboard_reader->fetch_add(1) % dashboard_readers.size()];
  }
};

class router;
class api_key_registry;

void add_health_routes(router& r, const app_context& app);
/// GET /metrics: the registry's Prometheus exposition.
void add_metrics_route(router& r, std::shared_ptr<const metrics_registry> metrics);
/// Campaign and advertiser dashboards, alerts, advertiser API keys.
void add_dashboard_routes(router& r, const app_context& app,
                          std::shared_ptr<api_key_registry> keys);
void add_admin_routes(router& r, const app_context& app);
void add_ads_routes(router& r, const app_context& app);
/// GET /admin/v1/monitoring/realtime, the integrity check's endpoints.
void add_monitoring_routes(router& r, const app_context& app);
/// /admin/v1/inspect/...: actors, ledgers, campaigns, auctions, sessions,
/// money reconciliation.
void add_inspect_routes(router& r, const app_context& app);
/// GET /admin/v1/advertisers and /admin/v1/campaigns: keyset-paginated listings.
void add_list_routes(router& r, const app_context& app);
/// /admin/v1/inspect/nodes and /admin/v1/inspect/where: the cluster.
void add_cluster_routes(router& r, const app_context& app);
/// Every route above (and the web page), as the server serves them.
void add_all_routes(router& r, const app_context& app, std::shared_ptr<api_key_registry> keys,
                    std::shared_ptr<const metrics_registry> metrics);

}  // namespace adserver::net
