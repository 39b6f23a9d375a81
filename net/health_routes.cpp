// Liveness and readiness.
#include "actors/cluster_view.hpp"
#include "net/ask.hpp"
#include "net/metrics.hpp"

#include <nlohmann/json.hpp>

namespace adserver::net {

void add_metrics_route(router& r, std::shared_ptr<const metrics_registry> metrics) {
  // Prometheus text; no query and no actor round trip per scrape. It tells
  // money charged and business rates, so it takes the admin token (SPEC.md);
  // Prometheus sends it with `authorization: {credentials_file: ...}`.
  r.add("GET", "/metrics", true, [metrics](route_context&, respond_fn respond) {
    http_reply reply;
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.body = metrics->render();
    respond(std::move(reply));
  });
}

void add_health_routes(router& r, const app_context& app) {
  r.add("GET", "/healthz", false, [](route_context&, respond_fn respond) {
    respond(json_reply(200, {{"status", "ok"}}));
  });
  // Ready when the PostgreSQL writer and reader are connected, as they last
  // saw it (their own back-off and idle checks keep that fresh): a probe
  // costs no query and never waits for a dead database. Redis or the
  // counters' writer down leaves the server serving (degraded): money does
  // not depend on them.
  r.add("GET", "/readyz", false, [app](route_context&, respond_fn respond) {
    auto& h = *app.health;
    bool writer = h.postgres_writer.load(std::memory_order_relaxed);
    bool reader = h.postgres_reader.load(std::memory_order_relaxed);
    bool redis = h.redis.load(std::memory_order_relaxed);
    bool counters = h.postgres_counters.load(std::memory_order_relaxed);
    // A cluster node places keys only once it knows the members and has
    // tried to reach them; before that it would place every key on itself.
    bool cluster = !app.cluster || app.cluster->settled();
    bool ready = writer && reader && cluster;
    nlohmann::json body = {
      {"status", ready ? (redis && counters ? "ready" : "degraded") : "unavailable"},
      {"components",
       {{"postgres", writer && reader ? "up" : "down"},
        {"postgres_counters", counters ? "up" : "down"},
        {"redis", redis ? "up" : "down"}}}};
    if (app.cluster && app.cluster->clustered())
      body["components"]["cluster"] = cluster ? "up" : "joining";
    if (ready) {
      respond(json_reply(200, body));
      return;
    }
    auto reply = error_reply(503, "UNAVAILABLE",
                             writer && reader ? "not ready: joining the cluster"
                                              : "not ready: PostgreSQL is unreachable",
                             body["components"].dump());
    reply.headers.emplace_back("Retry-After", "1");
    respond(std::move(reply));
  });
}

}  // namespace adserver::net
