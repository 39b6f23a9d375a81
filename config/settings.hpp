#pragma once
// adserver's configuration: one `key = value` file (config/adserver.conf
// documents every key), then environment variables ADSERVER_<KEY> (dots and
// dashes become underscores, upper case), then command-line flags --key=value.
// Later sources win. validate() names the first bad option.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace adserver {

struct settings {
  std::string http_address = "127.0.0.1";
  int http_port = 8080;
  int http_io_threads = 2;
  int64_t http_body_limit = 1 << 20;
  int64_t http_header_limit = 8 << 10;
  int64_t http_idle_timeout_ms = 30000;   // keep-alive idle and slow-client read limit
  int64_t http_max_connections = 10000;
  int64_t http_max_connections_per_address = 256;
  int64_t http_api_deadline_ms = 2000;
  int64_t http_admin_deadline_ms = 10000;
  int64_t http_deadline_margin_ms = 500;
  int64_t postgres_statement_timeout_ms = 2000;
  int64_t postgres_counters_linger_ms = 200;
  int64_t ledger_max_parked = 64;
  int64_t entities_idle_seconds = 600;
  int actor_threads = 2;
  std::string postgres_conninfo =
    "host=127.0.0.1 port=55432 dbname=adserver user=adserver connect_timeout=5";
  std::string redis_host = "127.0.0.1";
  int redis_port = 56379;
  std::string kafka_brokers = "embedded";
  int kafka_partitions = 3;
  std::string kafka_spool_path = ".data/kafka-spool.bin";
  int64_t kafka_message_timeout_ms = 10000;
  int64_t kafka_max_message_bytes = 1000000;           // producer message.max.bytes
  int64_t kafka_spool_max_bytes = int64_t{256} << 20;  // undelivered bytes the spool may hold
  /// token -> principal (fills created_user_id / updated_user_id)
  std::map<std::string, std::string> admin_tokens;
  bool admin_announce_token = false;
  std::string hmac_secret;
  std::string time_zone = "Asia/Seoul";
  int64_t ads_reserve_price = 10;
  int64_t pacing_allowance_percent = 2;
  int64_t pacing_traffic_flush_seconds = 60;
  std::string pacing_curve = "learned";
  int64_t ads_stats_refresh_seconds = 30;
  int64_t ads_token_ttl_seconds = 3600;
  double ads_baseline_ctr = 0.01;
  int64_t ads_auction_idle_seconds = 600;
  int64_t ads_impression_memory = 250000;
  int64_t dashboards_enabled = 1;
  int64_t dashboards_flush_ms = 5000;
  int64_t dashboards_stream_maxlen = 10000;
  int64_t dashboards_max_users_per_window = 100000;
  int64_t dashboards_alert_check_seconds = 30;
  int64_t dashboards_max_streams_per_key = 5;
  int64_t dashboards_readers = 2;
  int64_t dashboards_minute_retention_days = 7;
  int64_t experiments_session_shards = 4;
  int64_t experiments_refresh_seconds = 60;
  int64_t experiments_max_sessions = 1000000;
  int64_t rate_limit_device_per_second = 50;   // 0: off
  int64_t rate_limit_address_per_second = 0;   // 0: off (load balancers share addresses)

  /// This node's name in logs, metrics and the realtime view; empty: the
  /// host name and HTTP port.
  std::string node_name;
  /// Cluster (docs/cluster.md). The node's id in membership and leases is
  /// its name above.
  std::string cluster_actor_host = "127.0.0.1";
  int cluster_actor_port = 0;  // 0: this node takes no peers (single node)
  int64_t cluster_heartbeat_ms = 1000;
  int64_t cluster_lease_ms = 3000;
  /// debug, info (one line per request), warn or error.
  std::string log_level = "info";
  int64_t integrity_interval_seconds = 86400;  // 0: on demand only
  int64_t integrity_first_run_seconds = 300;
  /// The reporting connection's statement timeout (integrity checks,
  /// reconciliation): long full-table reads, never on the serving path.
  int64_t integrity_statement_timeout_ms = 300000;

  /// --migrate-only: apply migrations and exit.
  bool migrate_only = false;

  /// The raw admin.tokens option: "principal:token,principal:token" or "token".
  std::string admin_tokens_raw;

  /// Every option set by the file, the environment or a flag: key, value
  /// with secrets masked (safe to log), source.
  struct applied_option {
    std::string key;
    std::string value;
    std::string source;
  };
  std::vector<applied_option> applied;
};

/// `value` of option `key` as it may be logged: tokens and secrets masked,
/// a connection string's password masked.
std::string masked_option(const std::string& key, const std::string& value);

/// Builds settings from file, environment and flags. On error returns false
/// and sets `err` to a message naming the option. `--help` sets `help`.
bool load_settings(int argc, char** argv, settings& out, std::string& err, bool& help);

/// The documented keys, for --help.
std::string settings_help();

}  // namespace adserver
