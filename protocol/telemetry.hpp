#pragma once
// What this node counts about itself, for /metrics and the realtime view:
// lock-free counters the actors bump as they work, and each actor kind's
// census (how many are alive, how many messages wait in their mailboxes).
// Reading is O(kinds), never O(actors): every actor keeps its own share of
// a kind's figures up to date (census_entry, gauge_share).
#include "protocol/integrity_report.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace adserver {

enum class actor_kind : uint8_t {
  ledger,
  campaign,
  auction,
  session_shard,
  dashboard_window,
  dashboards,
  directory,
  auction_router,
  registrar,
  catalog,
  conversions,
  experiments,
  pg_writer,
  pg_reader,
  redis_writer,
  stream_reader,
  kafka_producer,
  integrity,
  traffic,
  membership,
  count_  // not a kind
};
constexpr size_t actor_kind_count = static_cast<size_t>(actor_kind::count_);

/// The kind's name as status records and metrics label it.
const char* kind_name(actor_kind k);

/// Why a click was not charged (click_result.reason), as a bounded label.
enum class unbilled_reason : uint8_t {
  duplicate_click,
  campaign_inactive,
  budget_exhausted,
  insufficient_balance,
  other,
  count_
};
constexpr size_t unbilled_reason_count = static_cast<size_t>(unbilled_reason::count_);
const char* reason_name(unbilled_reason r);
/// Maps click_result.reason to its label (unknown reasons: other).
unbilled_reason unbilled_reason_of(const std::string& reason);

/// The table a REFERENCE_NOT_FOUND / REFERENCE_INACTIVE names.
enum class reference_table : uint8_t { advertisers, campaigns, products, experiments, other, count_ };
constexpr size_t reference_table_count = static_cast<size_t>(reference_table::count_);
const char* table_name(reference_table t);


using counter = std::atomic<int64_t>;

struct node_telemetry {
  std::array<counter, actor_kind_count> actors{};
  std::array<counter, actor_kind_count> mailbox{};
  // Clicks and money.
  counter clicks_charged{0};
  counter money_charged{0};  // won
  std::array<counter, unbilled_reason_count> clicks_unbilled{};
  counter deductions_ok{0};       // clicks charged and DEDUCT changes committed
  counter deductions_refused{0};  // refused for balance or budget
  counter deductions_failed{0};   // the deduction's write failed (answered 503)
  // Serving.
  counter ad_requests{0};
  counter ad_requests_matched{0};     // answered with at least one ad
  counter ad_requests_experiment{0};  // at least one ad under an experiment code
  /// Ad requests per placement (placement_index order): the traffic actor
  /// turns them into the hourly curves of budget pacing.
  std::array<counter, 4> ad_requests_by_placement{};
  counter ads_ranked_served{0};       // ads handed out by auctions
  counter ads_baseline_served{0};     // of those, pCTR still led by the category baseline
  // Budget burn: today's spend and daily budgets of the campaigns whose
  // ledgers are in memory (each ledger keeps its share).
  counter spent_today_held{0};
  counter daily_budget_held{0};
  counter sessions_held{0};
  // Experiment codes served here to a session another node owns: sent to
  // that node, or kept here because it was not reachable.
  counter session_codes_sent{0};
  counter session_codes_kept{0};
  // Refusals.
  counter rate_limited_device{0};
  counter rate_limited_address{0};
  counter rate_limited_stream{0};
  std::array<counter, reference_table_count> reference_failures{};
  // PostgreSQL group commit.
  counter pg_commits{0};
  counter pg_commit_units{0};  // units of work committed (sum of batch sizes)
  counter pg_commit_failures{0};
  counter pg_counters_commit_failures{0};  // the dashboards' and traffic's writer
  static constexpr std::array<double, 12> commit_bounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                        0.05,   0.1,   0.25,  0.5,   1.0,  5.0};
  std::array<counter, commit_bounds.size() + 1> commit_buckets{};  // last: +Inf
  counter commit_micros{0};
  // Redis mirror and Kafka producer.
  counter redis_queue{0};             // writes waiting to be sent
  counter redis_oldest_pending_ms{0};  // unix ms of the oldest waiting write; 0: none
  counter kafka_queue{0};             // messages librdkafka has not delivered yet
  counter kafka_delivery_errors{0};
  // Integrity check (last run).
  std::array<counter, integrity_check_count> integrity_findings{};  // last successful run
  std::array<counter, integrity_check_count> integrity_check_errors{};  // 1: last run failed
  counter integrity_runs{0};
  counter integrity_last_run_ms{0};

  void record_commit(double seconds, int64_t units);
};

/// This node's figures (one per process).
node_telemetry& telemetry();

/// A member of an actor's state: counts the actor in its kind while it
/// lives, and keeps the kind's mailbox figure up to date with this actor's
/// last sampled depth.
class census_entry {
public:
  explicit census_entry(actor_kind k);
  ~census_entry();
  census_entry(const census_entry&) = delete;
  census_entry& operator=(const census_entry&) = delete;
  /// This actor's mailbox holds `depth` messages now.
  void sample(size_t depth);

private:
  actor_kind kind_;
  int64_t reported_ = 0;
};

/// An actor's share of a node-wide sum (today's spend of its campaigns...):
/// set() replaces the share, destruction withdraws it.
class gauge_share {
public:
  explicit gauge_share(counter& total) : total_(&total) {}
  ~gauge_share() { total_->fetch_sub(mine_, std::memory_order_relaxed); }
  gauge_share(const gauge_share&) = delete;
  gauge_share& operator=(const gauge_share&) = delete;
  void set(int64_t value) {
    total_->fetch_add(value - mine_, std::memory_order_relaxed);
    mine_ = value;
  }

private:
  counter* total_;
  int64_t mine_ = 0;
};

}  // namespace adserver
