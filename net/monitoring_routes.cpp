// GET /admin/v1/monitoring/realtime (seed 000: under 100 ms): the last
// minute from counters in memory, no actor round trip and no query; and the
// data integrity check's report.
#include "actors/cluster_view.hpp"
#include "net/ask.hpp"
#include "net/metrics.hpp"
#include "net/node_metrics.hpp"
#include "net/telemetry_window.hpp"
#include "protocol/business_time.hpp"
#include "protocol/telemetry.hpp"

#include <caf/sec.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace adserver::net {

using nlohmann::json;

namespace {

int64_t load(const counter& c) {
  return c.load(std::memory_order_relaxed);
}

/// part / whole, or null when nothing happened.
json ratio(int64_t part, int64_t whole) {
  if (whole <= 0)
    return nullptr;
  return static_cast<double>(part) / static_cast<double>(whole);
}

double rounded(double x, double unit) {
  return std::round(x / unit) * unit;
}

json integrity_report_json(const integrity_report& r) {
  json checks = json::array();
  for (auto& c : r.checks) {
    json samples = json::array();
    for (auto& f : c.samples)
      samples.push_back({{"table", f.table}, {"id", f.id}, {"detail", f.detail}});
    json check = {{"name", c.name}, {"count", c.count}, {"samples", std::move(samples)}};
    if (!c.error.empty())
      check["error"] = c.error;
    checks.push_back(std::move(check));
  }
  return {{"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"findings_total", r.findings_total},
          {"running", r.running},
          {"checks", std::move(checks)}};
}

/// Commit latency (seconds) under which fraction q of all commits fell.
double commit_percentile(const node_telemetry& t, double q) {
  int64_t total = 0;
  for (auto& b : t.commit_buckets)
    total += load(b);
  if (total == 0)
    return 0;
  auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(total)));
  int64_t seen = 0;
  for (size_t i = 0; i < t.commit_bounds.size(); ++i) {
    seen += load(t.commit_buckets[i]);
    if (seen >= rank)
      return t.commit_bounds[i];
  }
  return t.commit_bounds.back();
}

json realtime(const app_context& app) {
  auto& t = telemetry();
  auto now = take_snapshot();
  auto start = app.recent ? app.recent->window_start() : now;
  double window = std::chrono::duration<double>(now.at - start.at).count();
  auto per_second = [window](int64_t n) {
    return window < 0.5 ? 0.0 : rounded(static_cast<double>(n) / window, 0.001);
  };
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now() - app.started_at)
                  .count();
  // The request rings cover the last minute, or the time since start.
  double span = static_cast<double>(
    std::clamp<int64_t>(uptime, 1, metrics_registry::window_seconds));
  json routes = json::array();
  uint64_t requests = 0;
  uint64_t errors = 0;
  if (app.metrics)
    for (auto& r : app.metrics->last_minute()) {
      requests += r.count;
      errors += r.errors;
      routes.push_back({{"method", r.method},
                        {"route", r.route},
                        {"count", r.count},
                        {"per_second", rounded(static_cast<double>(r.count) / span, 0.001)},
                        {"errors", r.errors},
                        {"p50_ms", rounded(r.p50 * 1e3, 0.001)},
                        {"p95_ms", rounded(r.p95 * 1e3, 0.001)},
                        {"p99_ms", rounded(r.p99 * 1e3, 0.001)}});
    }
  json unbilled = json::object();
  for (size_t i = 0; i < unbilled_reason_count; ++i)
    unbilled[reason_name(static_cast<unbilled_reason>(i))] = load(t.clicks_unbilled[i]);
  json references = json::object();
  for (size_t i = 0; i < reference_table_count; ++i)
    references[table_name(static_cast<reference_table>(i))] = load(t.reference_failures[i]);
  json actors = json::array();
  for (size_t i = 0; i < actor_kind_count; ++i)
    actors.push_back({{"kind", kind_name(static_cast<actor_kind>(i))},
                      {"count", load(t.actors[i])},
                      {"mailbox", std::max<int64_t>(0, load(t.mailbox[i]))}});
  auto requests_in = now.ad_requests - start.ad_requests;
  auto commits = load(t.pg_commits);
  auto redis_since = load(t.redis_oldest_pending_ms);
  int64_t findings = 0;
  for (auto& f : t.integrity_findings)
    findings += load(f);
  int64_t failed_checks = 0;
  for (auto& e : t.integrity_check_errors)
    failed_checks += load(e);
  auto last_run = load(t.integrity_last_run_ms);
  auto started = app.started_at;
  bool pg_up = app.health && app.health->postgres_writer.load() && app.health->postgres_reader.load();
  bool redis_up = app.health && app.health->redis.load();
  return {
    {"node", app.node_name},
    {"version", build_version()},
    {"build", build_commit()},
    {"started_at", iso8601(started)},
    {"generated_at", iso8601_now()},
    {"uptime_seconds", uptime},
    {"window_seconds", rounded(window, 0.1)},
    {"ready", pg_up && (!app.cluster || app.cluster->settled())},  // as /readyz
    {"requests",
     {{"total", requests},
      {"per_second", rounded(static_cast<double>(requests) / span, 0.001)},
      {"errors_per_second", rounded(static_cast<double>(errors) / span, 0.001)}}},
    {"routes", std::move(routes)},
    {"business",
     {{"balance_deduction_success_rate",
       ratio(now.deductions_ok - start.deductions_ok,
             now.deductions_ok - start.deductions_ok + now.deductions_refused
               - start.deductions_refused + now.deductions_failed - start.deductions_failed)},
      {"ad_match_rate", ratio(now.ad_requests_matched - start.ad_requests_matched, requests_in)},
      {"budget_burn_rate", ratio(load(t.spent_today_held), load(t.daily_budget_held))},
      {"experiment_participation_rate",
       ratio(now.ad_requests_experiment - start.ad_requests_experiment, requests_in)},
      {"baseline_application_rate",
       ratio(now.ads_baseline_served - start.ads_baseline_served,
             now.ads_served - start.ads_served)},
      {"ad_requests_per_second", per_second(requests_in)},
      {"clicks_charged_per_second", per_second(now.clicks_charged - start.clicks_charged)},
      {"money_charged_per_second", per_second(now.money_charged - start.money_charged)},
      {"clicks_unbilled_per_second", per_second(now.clicks_unbilled - start.clicks_unbilled)},
      {"deductions_failed_per_second",
       per_second(now.deductions_failed - start.deductions_failed)},
      {"rate_limited_per_second", per_second(now.rate_limited - start.rate_limited)}}},
    {"totals",
     {{"clicks_charged", load(t.clicks_charged)},
      {"clicks_unbilled", std::move(unbilled)},
      {"money_charged", load(t.money_charged)},
      {"ad_requests", load(t.ad_requests)},
      {"ad_requests_matched", load(t.ad_requests_matched)},
      {"rate_limited", now.rate_limited},
      {"reference_failures", std::move(references)},
      {"spent_today_held", load(t.spent_today_held)},
      {"daily_budget_held", load(t.daily_budget_held)},
      {"sessions_held", load(t.sessions_held)}}},
    {"actors", std::move(actors)},
    {"io",
     {{"postgres_up", pg_up},
      {"redis_up", redis_up},
      {"pg_commits", commits},
      {"pg_commit_batch_avg",
       commits == 0 ? json(nullptr)
                    : json(rounded(static_cast<double>(load(t.pg_commit_units))
                                     / static_cast<double>(commits), 0.01))},
      {"pg_commit_avg_ms",
       commits == 0 ? json(nullptr)
                    : json(rounded(static_cast<double>(load(t.commit_micros)) / 1e3
                                     / static_cast<double>(commits), 0.001))},
      {"pg_commit_p99_ms", commits == 0 ? json(nullptr) : json(commit_percentile(t, 0.99) * 1e3)},
      {"redis_queue", load(t.redis_queue)},
      {"redis_lag_seconds",
       redis_since == 0 ? 0.0
                        : rounded(static_cast<double>(std::max<int64_t>(0, epoch_millis() - redis_since))
                                    / 1e3, 0.001)},
      {"kafka_queue", load(t.kafka_queue)},
      {"kafka_brokers", app.kafka_brokers},
      {"kafka_delivery_errors", load(t.kafka_delivery_errors)},
      {"event_spool_bytes", app.event_log ? app.event_log->spool_bytes.load() : 0},
      {"dead_letters", app.event_log ? app.event_log->dead_letters.load() : 0}}},
    {"integrity",
     {{"last_run", last_run == 0 ? json(nullptr)
                                 : json(iso8601(std::chrono::system_clock::time_point{
                                     std::chrono::milliseconds{last_run}}))},
      {"findings", findings},
      {"failed_checks", failed_checks}}}};
}

}  // namespace

void add_monitoring_routes(router& r, const app_context& app) {
  r.add("GET", "/admin/v1/monitoring/realtime", true,
        [app](route_context&, respond_fn respond) { respond(json_reply(200, realtime(app))); });

  r.add("POST", "/admin/v1/integrity/check", true,
        [app](route_context& ctx, respond_fn respond) {
          if (!app.integrity)
            return respond(error_reply(503, "UNAVAILABLE", "the integrity check is not running"));
          // Waits for the run while the request's deadline allows; a longer
          // run goes on, answered 202, and GET shows its report when done.
          auto wait_ms = ctx.request.deadline_ms == 0
                           ? int64_t{8000}
                           : std::max<int64_t>(10, ctx.request.deadline_ms - epoch_millis() - 50);
          app.bridge->run([=](caf::event_based_actor* self) {
            // Sent after the check, so it names the run the check started
            // or joined (what GET /admin/v1/integrity reports when done).
            auto since = std::make_shared<std::string>(iso8601_now());
            self->request(app.integrity, std::chrono::milliseconds(wait_ms), check_atom::value)
              .then(
                [=](const integrity_report& report) {
                  respond(json_reply(200, integrity_report_json(report)));
                },
                [=](caf::error& err) {
                  if (err == caf::sec::request_timeout)
                    respond(json_reply(202, {{"running", true}, {"started_at", *since}}));
                  else
                    respond(error_reply(err));
                });
            self->request(app.integrity, std::chrono::milliseconds(wait_ms), status_atom::value)
              .then(
                [=](const status_record& status) {
                  if (auto it = status.info.find("running_since"); it != status.info.end())
                    *since = it->second;
                },
                [](caf::error&) {});
          });
        });

  r.add("GET", "/admin/v1/integrity", true, [app](route_context&, respond_fn respond) {
    if (!app.integrity)
      return respond(error_reply(503, "UNAVAILABLE", "the integrity check is not running"));
    ask<integrity_report>(
      app, app.integrity, respond,
      [](const integrity_report& report) { return json_reply(200, integrity_report_json(report)); },
      get_atom::value);
  });
}

}  // namespace adserver::net
