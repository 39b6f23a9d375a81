#include "net/node_metrics.hpp"

#include "actors/integrity_logic.hpp"
#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "protocol/telemetry.hpp"

#include <algorithm>
#include <cstdio>

#ifndef ADSERVER_VERSION
#define ADSERVER_VERSION "unknown"
#endif
#ifndef ADSERVER_BUILD
#define ADSERVER_BUILD "unknown"
#endif

namespace adserver::net {

namespace {

using sample = metrics_registry::sample;

double get(const counter& c) {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

std::function<std::vector<sample>()> one(const counter& c) {
  return [&c] { return std::vector<sample>{{"", "", get(c)}}; };
}

std::string label(const char* name, const std::string& value) {
  return std::string{name} + "=\"" + escape_label(value) + "\"";
}

}  // namespace

const char* build_version() {
  return ADSERVER_VERSION;
}

const char* build_commit() {
  return ADSERVER_BUILD;
}

void add_node_metrics(metrics_registry& m) {
  auto& t = telemetry();
  m.add_family("adserver_build_info", "Version and build of this node (always 1).", "gauge", [] {
    return std::vector<sample>{
      {"", label("version", build_version()) + "," + label("build", build_commit()), 1}};
  });
  m.add_family("adserver_actors", "Live actors by kind (ledgers, campaigns, auctions... held).",
               "gauge", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < actor_kind_count; ++i)
                   out.push_back({"", label("kind", kind_name(static_cast<actor_kind>(i))),
                                  get(t.actors[i])});
                 return out;
               });
  m.add_family("adserver_actor_mailbox_messages",
               "Messages waiting in the mailboxes of a kind's actors, as each last sampled its "
               "own (at its periodic tick, at most a few seconds old).",
               "gauge", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < actor_kind_count; ++i)
                   out.push_back({"", label("kind", kind_name(static_cast<actor_kind>(i))),
                                  std::max(0.0, get(t.mailbox[i]))});
                 return out;
               });
  m.add_family("adserver_sessions", "Sessions with experiment codes held in memory.", "gauge",
               one(t.sessions_held));
  m.add_family("adserver_clicks_charged_total", "Clicks charged to an advertiser's balance.",
               "counter", one(t.clicks_charged));
  m.add_family("adserver_clicks_unbilled_total", "Clicks recorded without a charge, by reason.",
               "counter", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < unbilled_reason_count; ++i)
                   out.push_back({"",
                                  label("reason", reason_name(static_cast<unbilled_reason>(i))),
                                  get(t.clicks_unbilled[i])});
                 return out;
               });
  m.add_family("adserver_money_charged_won_total", "Money charged for clicks, in won.",
               "counter", one(t.money_charged));
  m.add_family("adserver_balance_deductions_total",
               "Click charges decided: deducted (ok), refused for balance or budget, or "
               "failed (the write did not commit; the click was answered 503).",
               "counter", [&t] {
                 return std::vector<sample>{{"", "result=\"ok\"", get(t.deductions_ok)},
                                            {"", "result=\"refused\"", get(t.deductions_refused)},
                                            {"", "result=\"failed\"", get(t.deductions_failed)}};
               });
  m.add_family("adserver_ad_requests_total", "Ad requests answered.", "counter",
               one(t.ad_requests));
  m.add_family("adserver_ad_requests_matched_total", "Ad requests answered with at least one ad.",
               "counter", one(t.ad_requests_matched));
  m.add_family("adserver_ad_requests_experiment_total",
               "Ad requests with at least one ad served under an experiment code.", "counter",
               one(t.ad_requests_experiment));
  m.add_family("adserver_ads_served_total", "Ads handed out by auctions.", "counter",
               one(t.ads_ranked_served));
  m.add_family("adserver_ads_served_baseline_total",
               "Ads served while their pCTR was still led by the category baseline (defense "
               "value): fewer impressions than the prior weight.",
               "counter", one(t.ads_baseline_served));
  m.add_family("adserver_cluster_session_codes_total",
               "Experiment requests served here for a session another node owns: the codes "
               "sent to that node to remember (sent), or remembered here because it was not "
               "reachable (kept).",
               "counter", [&t] {
                 return std::vector<sample>{
                   {"", label("result", "sent"), get(t.session_codes_sent)},
                   {"", label("result", "kept"), get(t.session_codes_kept)}};
               });
  m.add_family("adserver_spent_today_won",
               "Today's spend of the serving campaigns whose ledgers are in memory.", "gauge",
               one(t.spent_today_held));
  m.add_family("adserver_daily_budget_won",
               "Daily budgets of the serving campaigns whose ledgers are in memory.", "gauge",
               one(t.daily_budget_held));
  m.add_family("adserver_rate_limited_total", "Requests refused with 429, by limit.", "counter",
               [&t] {
                 return std::vector<sample>{
                   {"", "limit=\"device\"", get(t.rate_limited_device)},
                   {"", "limit=\"address\"", get(t.rate_limited_address)},
                   {"", "limit=\"stream\"", get(t.rate_limited_stream)}};
               });
  m.add_family("adserver_reference_failures_total",
               "API calls refused with REFERENCE_NOT_FOUND or REFERENCE_INACTIVE, by table.",
               "counter", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < reference_table_count; ++i)
                   out.push_back({"",
                                  label("table", table_name(static_cast<reference_table>(i))),
                                  get(t.reference_failures[i])});
                 return out;
               });
  m.add_family("adserver_pg_commit_seconds",
               "Time of one PostgreSQL group commit (a batch of units of work).", "histogram",
               [&t] {
                 std::vector<sample> out;
                 double cumulative = 0;
                 for (size_t i = 0; i < t.commit_bounds.size(); ++i) {
                   cumulative += get(t.commit_buckets[i]);
                   char le[32];
                   std::snprintf(le, sizeof le, "%g", t.commit_bounds[i]);
                   out.push_back({"_bucket", std::string{"le=\""} + le + "\"", cumulative});
                 }
                 cumulative += get(t.commit_buckets.back());
                 out.push_back({"_bucket", "le=\"+Inf\"", cumulative});
                 out.push_back({"_sum", "", get(t.commit_micros) / 1e6});
                 out.push_back({"_count", "", cumulative});
                 return out;
               });
  m.add_family("adserver_pg_commit_units_total",
               "Units of work committed (divided by commits: the group-commit size).", "counter",
               one(t.pg_commit_units));
  m.add_family("adserver_pg_commit_failures_total", "Group commits that failed.", "counter",
               one(t.pg_commit_failures));
  m.add_family("adserver_pg_counters_commit_failures_total",
               "Commits of dashboard and traffic counts that failed.", "counter",
               one(t.pg_counters_commit_failures));
  m.add_family("adserver_redis_mirror_queue", "Redis mirror writes waiting to be sent.", "gauge",
               one(t.redis_queue));
  m.add_family("adserver_redis_mirror_lag_seconds",
               "How long the Redis mirror has had writes waiting without emptying its backlog (0: none).", "gauge", [&t] {
                 auto since = t.redis_oldest_pending_ms.load(std::memory_order_relaxed);
                 double lag = since == 0 ? 0 : std::max<int64_t>(0, epoch_millis() - since) / 1e3;
                 return std::vector<sample>{{"", "", lag}};
               });
  m.add_family("adserver_kafka_queue_messages",
               "Events handed to the Kafka producer and not yet delivered.", "gauge",
               one(t.kafka_queue));
  m.add_family("adserver_kafka_delivery_errors_total",
               "Kafka delivery reports with an error (retried from the spool or dead-lettered).",
               "counter", one(t.kafka_delivery_errors));
  m.add_family("adserver_integrity_findings",
               "Rows the last successful run of each integrity check found inconsistent.", "gauge", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < integrity_check_count; ++i)
                   out.push_back({"", label("check", integrity_check_name(i)),
                                  get(t.integrity_findings[i])});
                 return out;
               });
  m.add_family("adserver_integrity_check_errors",
               "1 when the check could not run in the last integrity run (its findings gauge "
               "keeps the last successful run's count).",
               "gauge", [&t] {
                 std::vector<sample> out;
                 for (size_t i = 0; i < integrity_check_count; ++i)
                   out.push_back({"", label("check", integrity_check_name(i)),
                                  get(t.integrity_check_errors[i])});
                 return out;
               });
  m.add_family("adserver_log_lines_dropped_total",
               "Log lines dropped because the writer's queue was full (stderr too slow).",
               "counter", [] {
                 return std::vector<sample>{{"", "", static_cast<double>(log_lines_dropped())}};
               });
  m.add_family("adserver_integrity_runs_total", "Integrity checks run.", "counter",
               one(t.integrity_runs));
  m.add_family("adserver_integrity_last_run_timestamp_seconds",
               "When the last integrity check finished (Unix time; 0: never).", "gauge", [&t] {
                 return std::vector<sample>{{"", "", get(t.integrity_last_run_ms) / 1e3}};
               });
}

}  // namespace adserver::net
