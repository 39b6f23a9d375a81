// adserver: wires configuration, storage I/O actors, state owners and HTTP.
#include "actors/auction_router.hpp"
#include "actors/catalog.hpp"
#include "actors/conversion.hpp"
#include "actors/dashboard.hpp"
#include "actors/directory.hpp"
#include "actors/experiments.hpp"
#include "actors/integrity.hpp"
#include "actors/membership.hpp"
#include "actors/registrar.hpp"
#include "actors/session_experiment.hpp"
#include "actors/system_setup.hpp"
#include "actors/traffic.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "net/api_key_refresh.hpp"
#include "net/app_context.hpp"
#include "net/cluster_gateway.hpp"
#include "net/http_server.hpp"
#include "net/metrics.hpp"
#include "net/node_metrics.hpp"
#include "net/router.hpp"
#include "net/telemetry_window.hpp"
#include "protocol/business_time.hpp"
#include "storage/cluster_join.hpp"
#include "storage/io_health.hpp"
#include "storage/kafka_actor.hpp"
#include "storage/loaders.hpp"
#include "storage/migrate.hpp"
#include "storage/pg_actors.hpp"
#include "storage/redis_actor.hpp"
#include "storage/stream_reader.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include <unistd.h>

using namespace adserver;

namespace {

struct system_config : caf::actor_system_config {
  explicit system_config(const settings& s) {
    load<caf::io::middleman>();
    set("scheduler.max-threads", s.actor_threads);
    // The work-stealing default lets idle workers sleep 10 ms between polls,
    // which shows up directly as tail latency of requests arriving from the
    // HTTP threads. The sharing policy wakes a worker at once.
    set("scheduler.policy", caf::atom("sharing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_message_types(*this);
  }
};

/// node.name, or host name:HTTP port.
std::string node_name_of(const settings& cfg) {
  if (!cfg.node_name.empty())
    return cfg.node_name;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0)
    std::snprintf(host, sizeof host, "localhost");
  // http.port 0 is picked when the server listens, after the node has joined
  // the cluster under its name: the process id keeps such names apart.
  if (cfg.http_port == 0)
    return std::string{host} + ":pid-" + std::to_string(getpid());
  return std::string{host} + ":" + std::to_string(cfg.http_port);
}

/// The options that were set, secrets masked (settings::applied).
void log_configuration(const settings& cfg, const std::string& node) {
  std::string options = "{";
  for (auto& o : cfg.applied) {
    options += (options.size() > 1 ? "," : "") + json_quote(o.key) + ":{\"value\":"
               + json_quote(o.value) + ",\"source\":" + json_quote(o.source) + "}";
  }
  options += "}";
  log_line(log_level::info, "config",
           {{"node", node},
            {"version", net::build_version()},
            {"build", net::build_commit()},
            {"options", options, true}});
}

int run(const settings& cfg) {
  log_level level = log_level::info;
  parse_log_level(cfg.log_level, level);
  set_log_level(level);
  auto node = node_name_of(cfg);
  log_configuration(cfg, node);
  if (!set_business_time_zone(cfg.time_zone)) {
    std::cerr << "invalid option time_zone: unknown time zone " << cfg.time_zone << std::endl;
    return 2;
  }
  if (auto err = storage::apply_migrations(cfg.postgres_conninfo); !err.empty()) {
    std::cerr << "adserver: cannot prepare the database (postgres.conninfo): " << err
              << std::endl;
    return 1;
  }
  if (cfg.migrate_only) {
    std::cout << "adserver: migrations applied" << std::endl;
    return 0;
  }

  std::unique_ptr<storage::embedded_kafka> embedded;
  std::string brokers = cfg.kafka_brokers;
  if (brokers == "embedded") {
    std::string err;
    embedded = storage::embedded_kafka::start(cfg.kafka_partitions, err);
    if (!embedded) {
      std::cerr << "adserver: cannot start the embedded Kafka cluster: " << err << std::endl;
      return 1;
    }
    brokers = embedded->bootstrap();
  }

  // In cluster_members before serving: this node's ledger leases are valid
  // only while its row lives.
  cluster_member me;
  me.node_id = node;
  me.incarnation = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  if (cfg.http_port != 0)  // else written once the server listens
    me.http_url = "http://" + cfg.http_address + ":" + std::to_string(cfg.http_port);
  me.actor_host = cfg.cluster_actor_host;
  me.actor_port = cfg.cluster_actor_port;
  if (auto err = storage::join_cluster(cfg.postgres_conninfo, cfg.time_zone, me,
                                       cfg.cluster_lease_ms, 2 * cfg.cluster_lease_ms + 1000);
      !err.empty()) {
    std::cerr << "adserver: cannot join the cluster (cluster_members): " << err << std::endl;
    return 1;
  }

  system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};

  auto health = std::make_shared<storage::io_health>();
  storage::pg_settings pg;
  pg.conninfo = cfg.postgres_conninfo;
  pg.time_zone = cfg.time_zone;
  pg.statement_timeout_ms = cfg.postgres_statement_timeout_ms;
  pg.health = health;
  io_handles io;
  io.writer = sys.spawn<caf::detached>(storage::pg_writer, pg);
  // Its own connection for the counters flushed in bulk (dashboard windows
  // every dashboards.flush_ms, traffic every minute): a click's commit never queues
  // behind a thousand campaigns' dashboard rows. Connected, like the others,
  // while the rest starts (readiness reports it).
  storage::pg_settings counters_pg = pg;
  counters_pg.role = storage::writer_role::counters;
  counters_pg.linger_ms = cfg.postgres_counters_linger_ms;
  auto counters_db = sys.spawn<caf::detached>(storage::pg_writer, counters_pg);
  io.reader = sys.spawn<caf::detached>(storage::pg_reader, pg);
  io.redis = sys.spawn<caf::detached>(
    storage::redis_writer, storage::redis_settings{cfg.redis_host, cfg.redis_port, health});
  // The producer publishes its spool state here; tracking routes read it to
  // refuse (503) what the event log could not keep.
  auto event_log = std::make_shared<storage::event_log_gauge>();
  storage::kafka_settings kafka;
  kafka.brokers = brokers;
  kafka.spool_path = cfg.kafka_spool_path;
  kafka.message_timeout_ms = static_cast<int>(cfg.kafka_message_timeout_ms);
  kafka.max_message_bytes = cfg.kafka_max_message_bytes;
  kafka.spool_max_bytes = cfg.kafka_spool_max_bytes;
  kafka.gauge = event_log;
  io.kafka = storage::spawn_kafka_producer(sys, kafka);
  if (auto err = storage::resync_mirror(cfg.postgres_conninfo, cfg.time_zone, io.redis);
      !err.empty())
    std::cerr << "adserver: mirror resync skipped: " << err << std::endl;

  io_handles counters_io = io;
  counters_io.writer = counters_db;
  dashboards_actor dashboard_placement;
  if (cfg.dashboards_enabled) {
    dashboard_settings ds;
    ds.flush_ms = cfg.dashboards_flush_ms;
    ds.stream_maxlen = cfg.dashboards_stream_maxlen;
    ds.max_users_per_window = static_cast<size_t>(cfg.dashboards_max_users_per_window);
    ds.idle_seconds = cfg.entities_idle_seconds;
    ds.alert_check_seconds = cfg.dashboards_alert_check_seconds;
    ds.minute_retention_days = cfg.dashboards_minute_retention_days;
    dashboard_placement = sys.spawn(dashboards, counters_io, ds);
    io.dashboards = dashboard_placement;  // the state owners below report to it
  }

  auto products = sys.spawn(catalog, io);
  auto view = std::make_shared<cluster_view>(node, cfg.cluster_actor_port > 0);
  std::vector<session_experiment_actor> session_shards;
  for (int64_t i = 0; i < cfg.experiments_session_shards; ++i)
    session_shards.push_back(sys.spawn(
      session_experiments, io,
      session_experiment_settings{
        cfg.hmac_secret, 86400, cfg.experiments_refresh_seconds,
        static_cast<size_t>(std::max<int64_t>(1, cfg.experiments_max_sessions
                                                   / cfg.experiments_session_shards)),
        view}));
  // Ad requests per placement and hour, and the curves budget pacing uses.
  traffic_settings traffic_config;
  traffic_config.flush_seconds = cfg.pacing_traffic_flush_seconds;
  traffic_config.learn = cfg.pacing_curve == "learned";
  auto traffic_counter = sys.spawn(traffic, counters_db, io.reader, traffic_config);
  auction_settings auctions;
  auctions.traffic = traffic_counter;
  auctions.pacing_allowance_percent = cfg.pacing_allowance_percent;
  auctions.experiment_shards = session_shards;
  auctions.hmac_secret = cfg.hmac_secret;
  auctions.ranking.reserve_price = cfg.ads_reserve_price;
  auctions.ranking.baseline_ctr = cfg.ads_baseline_ctr;
  auctions.refresh_seconds = cfg.ads_stats_refresh_seconds;
  auctions.idle_seconds = cfg.ads_auction_idle_seconds;
  auctions.token_ttl_seconds = cfg.ads_token_ttl_seconds;
  ledger_settings ledgers;
  ledgers.max_parked = static_cast<size_t>(cfg.ledger_max_parked);
  ledgers.token_ttl_seconds = cfg.ads_token_ttl_seconds;
  ledgers.idle_seconds = cfg.entities_idle_seconds;
  ledgers.node_id = node;
  ledgers.incarnation = me.incarnation;
  ledgers.take_over = cfg.cluster_actor_port == 0;
  // A lease held by a node that died frees within cluster.lease_ms.
  ledgers.lease_wait_ms = cfg.cluster_lease_ms + 2 * cfg.cluster_heartbeat_ms;
  campaign_settings campaigns;
  campaigns.impression_memory = static_cast<size_t>(cfg.ads_impression_memory);
  campaigns.idle_seconds = cfg.entities_idle_seconds;
  campaigns.traffic = traffic_counter;
  campaigns.pacing_allowance_percent = cfg.pacing_allowance_percent;
  membership_settings membership_config;
  membership_config.self = me;
  membership_config.heartbeat_ms = cfg.cluster_heartbeat_ms;
  membership_config.lease_ms = cfg.cluster_lease_ms;
  // Its own connection: heartbeats never queue behind money writes.
  storage::pg_settings membership_pg = pg;
  membership_pg.health = nullptr;
  membership_pg.role = storage::writer_role::membership;
  auto membership_db = sys.spawn<caf::detached>(storage::pg_writer, membership_pg);
  auto members = sys.spawn(membership, membership_db, view, membership_config);
  auto running_auctions = std::make_shared<auction_routes>();
  auto router = sys.spawn(auction_router, io, auctions, running_auctions,
                          std::shared_ptr<const cluster_view>{view});
  auto dir = sys.spawn(directory, io, router, ledgers, campaigns,
                       std::shared_ptr<const cluster_view>{view});
  auto creator = sys.spawn(registrar, io, products, dir, router);

  net::actor_bridge bridge{sys, static_cast<size_t>(std::max(2, cfg.http_io_threads))};
  auto conversion_tracker = sys.spawn(conversions, io, int64_t{24});
  net::rate_limiter device_limit{static_cast<double>(cfg.rate_limit_device_per_second),
                                 2.0 * static_cast<double>(cfg.rate_limit_device_per_second)};
  net::rate_limiter address_limit{static_cast<double>(cfg.rate_limit_address_per_second),
                                  2.0 * static_cast<double>(cfg.rate_limit_address_per_second)};
  auto experiment_mappings = sys.spawn(experiments, io, session_shards,
                                       std::shared_ptr<const cluster_view>{view});
  net::app_context app{&bridge,      dir,           products,     conversion_tracker,
                       experiment_mappings, io,     &cfg,         &device_limit,
                       &address_limit,      health,        event_log};
  app.auction_router = router;
  app.running_auctions = running_auctions;
  app.registrar = creator;
  auto api_keys = std::make_shared<net::api_key_registry>();
  auto key_refresher =
    net::spawn_api_key_refresher(sys, io.reader, api_keys, std::chrono::seconds(30));
  for (int64_t i = 0; i < cfg.dashboards_readers; ++i)
    app.dashboard_readers.push_back(sys.spawn<caf::detached>(storage::pg_reader, pg));
  // Integrity checks and reconciliations read on a reporting connection of
  // their own (long statements allowed), never the serving or dashboard ones.
  storage::pg_settings reporting = pg;
  reporting.statement_timeout_ms = cfg.integrity_statement_timeout_ms;
  reporting.health = nullptr;  // readiness follows the serving connections
  app.reporting_reader = sys.spawn<caf::detached>(storage::pg_reader, reporting);
  app.integrity = sys.spawn(integrity, app.reporting_reader,
                            integrity_settings{cfg.integrity_interval_seconds,
                                               cfg.integrity_first_run_seconds,
                                               cfg.integrity_statement_timeout_ms + 10000});
  app.session_shards = session_shards;
  app.traffic = traffic_counter;
  app.counters_writer = counters_db;
  app.node_name = node;
  app.membership = members;
  app.cluster = view;
  app.kafka_brokers = brokers;
  if (cfg.dashboards_enabled)
    app.streams = sys.spawn<caf::detached>(
      storage::stream_reader, storage::stream_reader_settings{cfg.redis_host, cfg.redis_port});
  auto metrics = std::make_shared<net::metrics_registry>();
  net::add_node_metrics(*metrics);
  app.metrics = metrics;
  auto recent = std::make_shared<net::telemetry_window>();
  app.recent = recent;
  net::router routes;
  routes.set_admin_tokens(cfg.admin_tokens);
  routes.set_api_keys(api_keys);
  routes.set_metrics(metrics);
  net::add_all_routes(routes, app, api_keys, metrics);
  // Peers reach this node through one published actor; requests for
  // entities other nodes own go there (docs/cluster.md).
  node_gateway_actor gateway;
  bool unpublished = false;
  if (cfg.cluster_actor_port > 0) {
    gateway =
      net::spawn_gateway(sys, routes, router, session_shards, key_refresher, node,
                         cfg.http_body_limit);
    auto published = sys.middleman().publish(gateway, static_cast<uint16_t>(cfg.cluster_actor_port),
                                             cfg.cluster_actor_host.c_str(), true);
    if (!published) {
      std::cerr << "adserver: cannot publish the gateway on " << cfg.cluster_actor_host << ":"
                << cfg.cluster_actor_port << " (cluster.actor_port): "
                << sys.render(published.error()) << std::endl;
      unpublished = true;
    } else {
      routes.set_forwarder(net::make_forwarder(app));
    }
  }

  net::http_options http{cfg.http_address,         cfg.http_port,
                         cfg.http_io_threads,      cfg.http_body_limit,
                         cfg.http_header_limit,    cfg.http_idle_timeout_ms,
                         cfg.http_max_connections, cfg.http_max_connections_per_address,
                         cfg.http_api_deadline_ms, cfg.http_admin_deadline_ms,
                         cfg.http_deadline_margin_ms};
  // Connections, plus PostgreSQL, Redis, Kafka, the spool and some margin.
  if (auto warning = net::raise_open_file_limit(cfg.http_max_connections + 256);
      !warning.empty())
    std::cerr << "adserver: warning: " << warning << std::endl;
  net::http_server server{routes, http};
  metrics->add_gauge("adserver_http_connections", "Open HTTP connections.",
                     [&server] { return static_cast<double>(server.open_connections()); });
  metrics->add_gauge("adserver_http_requests_in_flight", "Requests read and not yet answered.",
                     [&server] { return static_cast<double>(server.in_flight()); });
  metrics->add_gauge("adserver_http_streams", "Open Server-Sent Events streams.",
                     [&server] { return static_cast<double>(server.open_streams()); });
  metrics->add_counter("adserver_http_connections_refused_total",
                       "Connections closed at once by the connection limits.",
                       [&server] { return static_cast<double>(server.connections_refused()); });
  metrics->add_family(
    "adserver_http_requests_refused_total",
    "Requests answered before routing because the HTTP was bad (400 malformed, 413 body "
    "too large, 431 headers too large); not in adserver_http_requests_total.",
    "counter", [&server] {
      std::vector<net::metrics_registry::sample> out;
      for (int status : {400, 413, 431})
        out.push_back({"", "status=\"" + std::to_string(status) + "\"",
                       static_cast<double>(server.requests_refused(status))});
      return out;
    });
  metrics->add_gauge("adserver_postgres_up", "1 when the PostgreSQL writer and reader are connected.",
                     [health] {
                       return health->postgres_writer.load() && health->postgres_reader.load()
                                ? 1.0 : 0.0;
                     });
  metrics->add_gauge("adserver_postgres_counters_up",
                     "1 when the writer of dashboard and traffic counts is connected.",
                     [health] { return health->postgres_counters.load() ? 1.0 : 0.0; });
  metrics->add_gauge("adserver_redis_up", "1 when Redis is reachable.",
                     [health] { return health->redis.load() ? 1.0 : 0.0; });
  metrics->add_gauge("adserver_event_spool_bytes", "Undelivered Kafka events waiting in the spool.",
                     [event_log] { return static_cast<double>(event_log->spool_bytes.load()); });
  metrics->add_counter("adserver_event_dead_letters_total",
                       "Events Kafka refused for good, written to the dead-letter file.",
                       [event_log] { return static_cast<double>(event_log->dead_letters.load()); });
  metrics->add_gauge("adserver_api_keys", "Advertiser API keys this node accepts.",
                     [api_keys] { return static_cast<double>(api_keys->size()); });
  // Every actor, state owners first, the I/O actors last; waits for all.
  auto stop_actors = [&] {
    bridge.stop();
    if (gateway)
      caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
    for (auto a : {caf::actor_cast<caf::actor>(dir), caf::actor_cast<caf::actor>(router),
                   caf::actor_cast<caf::actor>(creator), caf::actor_cast<caf::actor>(products),
                   caf::actor_cast<caf::actor>(conversion_tracker),
                   caf::actor_cast<caf::actor>(experiment_mappings), key_refresher,
                   caf::actor_cast<caf::actor>(app.streams),
                   caf::actor_cast<caf::actor>(app.integrity),
                   caf::actor_cast<caf::actor>(app.reporting_reader)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    for (auto& r : app.dashboard_readers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    for (auto& shard : session_shards)
      caf::anon_send_exit(shard, caf::exit_reason::user_shutdown);
    // After the state owners that report to it: every window writes its
    // counts, and only then may pg-writer stop (bounded wait).
    if (dashboard_placement) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      caf::scoped_actor waiter{sys};
      waiter->request(dashboard_placement, std::chrono::seconds(5), stop_atom::value)
        .receive([](bool) {},
                 [](caf::error&) {
                   std::cerr << "adserver: dashboard windows did not finish writing within 5 s"
                             << std::endl;
                 });
      caf::anon_send_exit(dashboard_placement, caf::exit_reason::user_shutdown);
    }
    // Out of cluster_members once the ledgers are gone: their leases are
    // free at once rather than after cluster.lease_ms.
    {
      caf::scoped_actor waiter{sys};
      waiter->request(members, std::chrono::seconds(3), stop_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
      caf::anon_send_exit(members, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(membership_db, caf::exit_reason::user_shutdown);
    }
    // Traffic counts of the last minute are written before pg-writer stops.
    {
      caf::scoped_actor waiter{sys};
      waiter->request(traffic_counter, std::chrono::seconds(3), stop_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
      caf::anon_send_exit(traffic_counter, caf::exit_reason::user_shutdown);
    }
    // The I/O actors go last: what the state owners sent them on the way out
    // (statistics, mirror writes, events) is still handled.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (auto a : {caf::actor_cast<caf::actor>(io.writer), caf::actor_cast<caf::actor>(counters_db),
                   caf::actor_cast<caf::actor>(io.reader),
                   caf::actor_cast<caf::actor>(io.redis), caf::actor_cast<caf::actor>(io.kafka)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  };
  if (unpublished) {
    stop_actors();
    return 1;
  }
  if (auto err = server.start(); !err.empty()) {
    std::cerr << "adserver: " << err << " (http.address/http.port)" << std::endl;
    stop_actors();  // else the actor system would wait for them forever
    return 1;
  }
  caf::anon_send(members, set_atom::value,
                 "http://" + cfg.http_address + ":" + std::to_string(server.port()));
  std::cout << "adserver ready: http://" << cfg.http_address << ":" << server.port()
            << std::endl;
  if (cfg.admin_announce_token)
    std::cout << "admin token: " << cfg.admin_tokens.begin()->first << std::endl;
  std::cout << "kcat -b " << brokers << " -C -t ad-events" << std::endl;

  server.wait_for_shutdown_signal();
  // Orderly: stop accepting; answer what is in flight (every request has its
  // answer within its deadline); stop the actors and wait for them (bridge
  // callbacks hold sessions that point into the server); only then does the
  // server go, when this scope ends.
  std::cout << "adserver: shutting down" << std::endl;
  server.stop(std::chrono::milliseconds(
    std::max(cfg.http_api_deadline_ms, cfg.http_admin_deadline_ms) + 500));
  stop_actors();
  std::cout << "adserver: stopped" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) must show up as a failed spool write
  // (EFBIG, reported and counted), not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  settings cfg;
  std::string err;
  bool help = false;
  if (!load_settings(argc, argv, cfg, err, help)) {
    std::cerr << "adserver: " << err << std::endl;
    return 2;
  }
  if (help) {
    std::cout << settings_help();
    return 0;
  }
  return run(cfg);
}
