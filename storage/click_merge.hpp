#pragma once
// Group commit across ledgers: each ledger writes its clicks as one
// click_charge statement, so with many advertisers a commit carried one
// statement per advertiser and PostgreSQL paid a statement's fixed cost per
// click. The writer merges consecutive click_charge units of distinct
// advertisers into one click_charge_merged statement and splits its rows back
// per unit: the same rows, the same compare-and-set per advertiser, one
// statement. In the same way the dashboard windows' increments (one unit per
// campaign and flush) go as one statement per commit.
#include "protocol/records.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace adserver::storage {

/// (name, SQL) of the merged statement; prepared with the others.
const std::vector<std::pair<const char*, const char*>>& click_merge_named_statements();

/// How a run-unit came to be.
enum class run_kind : uint8_t {
  single,      // one unit of the batch, as it is
  clicks,      // click_charge units of distinct advertisers, one click_charge_merged
  dashboards,  // dashboard windows' units, their arrays joined (merge_dashboard_units)
};

/// What a batch runs: its units, some merged. `members[k]` are the batch's
/// units that run-unit `k` stands for (one: run as it is).
struct merged_batch {
  merged_batch() = default;
  merged_batch(const merged_batch&) = delete;  // `units` points into `merged`
  merged_batch(merged_batch&&) = default;
  std::vector<std::vector<pg_statement>> merged;  // the merged units' storage
  std::vector<const std::vector<pg_statement>*> units;
  std::vector<const idempotency_ticket*> tickets;
  std::vector<std::vector<size_t>> members;
  std::vector<run_kind> kind;              // per run-unit
  std::vector<std::string> advertiser_of;  // per original unit ("" unless merged)
  std::vector<size_t> clicks_of;           // per original unit (0 unless merged)
  std::vector<size_t> unit_sizes;          // per original unit: its statements
};

/// The most clicks one merged statement carries.
constexpr size_t max_merged_clicks = 4096;

/// Merges each run of consecutive click_charge units (a unit of that one
/// statement, no Idempotency-Key) whose advertisers are distinct; any other
/// unit, or an advertiser already in the run, ends the run. Order between a
/// ledger's units is kept: merged units touch disjoint rows. Each run of
/// consecutive dashboard units (dashboard_unit_mergeable, no key) becomes one
/// unit too, however many (the writer's batch bounds them): one statement
/// per table orders all of a commit's dashboard rows, so two nodes' commits
/// take those locks in one order.
merged_batch merge_units(const std::vector<const std::vector<pg_statement>*>& units,
                         const std::vector<const idempotency_ticket*>& tickets);

/// The batch's results per original unit, from the run-units' results: a
/// merged statement's (advertiser, history id) rows go back to the unit of
/// that advertiser as its click_charge would have answered (ids, or no row
/// when its compare-and-set missed). A merged result that is not one id per
/// click or none for each of its units (it committed, so a unit must not
/// read it as a miss) marks all its units `doubtful`: their outcome is
/// unknown. A merged dashboard unit gives each of its units empty results
/// (one per statement), as their own statements would have.
std::vector<pg_results> split_merged_results(const merged_batch& plan,
                                             std::vector<pg_results>& results,
                                             size_t original_units, std::vector<bool>& doubtful);

}  // namespace adserver::storage
