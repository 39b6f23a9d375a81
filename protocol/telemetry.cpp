#include "protocol/telemetry.hpp"

namespace adserver {

const char* kind_name(actor_kind k) {
  switch (k) {
    case actor_kind::ledger: return "advertiser-ledger";
    case actor_kind::campaign: return "campaign";
    case actor_kind::auction: return "auction";
    case actor_kind::session_shard: return "session-experiment";
    case actor_kind::dashboard_window: return "dashboard-window";
    case actor_kind::dashboards: return "dashboards";
    case actor_kind::directory: return "directory";
    case actor_kind::auction_router: return "auction-router";
    case actor_kind::registrar: return "registrar";
    case actor_kind::membership: return "membership";
    case actor_kind::catalog: return "catalog";
    case actor_kind::conversions: return "conversions";
    case actor_kind::experiments: return "experiments";
    case actor_kind::pg_writer: return "pg-writer";
    case actor_kind::pg_reader: return "pg-reader";
    case actor_kind::redis_writer: return "redis-writer";
    case actor_kind::stream_reader: return "stream-reader";
    case actor_kind::kafka_producer: return "kafka-producer";
    case actor_kind::integrity: return "integrity";
    case actor_kind::traffic: return "traffic";
    case actor_kind::count_: break;
  }
  return "unknown";
}

const char* reason_name(unbilled_reason r) {
  switch (r) {
    case unbilled_reason::duplicate_click: return "DUPLICATE_CLICK";
    case unbilled_reason::campaign_inactive: return "CAMPAIGN_INACTIVE";
    case unbilled_reason::budget_exhausted: return "BUDGET_EXHAUSTED";
    case unbilled_reason::insufficient_balance: return "INSUFFICIENT_BALANCE";
    case unbilled_reason::other:
    case unbilled_reason::count_: break;
  }
  return "OTHER";
}

unbilled_reason unbilled_reason_of(const std::string& reason) {
  for (size_t i = 0; i + 1 < unbilled_reason_count; ++i) {
    auto r = static_cast<unbilled_reason>(i);
    if (reason == reason_name(r))
      return r;
  }
  return unbilled_reason::other;
}

const char* table_name(reference_table t) {
  switch (t) {
    case reference_table::advertisers: return "ad_advertisers";
    case reference_table::campaigns: return "ad_campaigns";
    case reference_table::products: return "ad_products_meta";
    case reference_table::experiments: return "experiment_mapping";
    case reference_table::other:
    case reference_table::count_: break;
  }
  return "other";
}

void node_telemetry::record_commit(double seconds, int64_t units) {
  pg_commits.fetch_add(1, std::memory_order_relaxed);
  pg_commit_units.fetch_add(units, std::memory_order_relaxed);
  commit_micros.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
  size_t i = 0;
  while (i < commit_bounds.size() && seconds > commit_bounds[i])
    ++i;
  commit_buckets[i].fetch_add(1, std::memory_order_relaxed);
}

node_telemetry& telemetry() {
  static node_telemetry instance;
  return instance;
}

census_entry::census_entry(actor_kind k) : kind_(k) {
  telemetry().actors[static_cast<size_t>(k)].fetch_add(1, std::memory_order_relaxed);
}

census_entry::~census_entry() {
  auto& t = telemetry();
  t.actors[static_cast<size_t>(kind_)].fetch_sub(1, std::memory_order_relaxed);
  t.mailbox[static_cast<size_t>(kind_)].fetch_sub(reported_, std::memory_order_relaxed);
}

void census_entry::sample(size_t depth) {
  auto d = static_cast<int64_t>(depth);
  if (d == reported_)
    return;
  telemetry().mailbox[static_cast<size_t>(kind_)].fetch_add(d - reported_,
                                                             std::memory_order_relaxed);
  reported_ = d;
}

}  // namespace adserver
