#pragma once
// The SQL adserver runs, as named prepared statements (parameters only, never
// string-built SQL). Builders return pg_statement values for the I/O actors;
// parsers turn result rows back into records.
#include "protocol/candidate.hpp"
#include "protocol/records.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adserver::storage {

/// (name, SQL) of every statement; prepared on each connection.
const std::vector<std::pair<const char*, const char*>>& named_statements();

// -- advertisers and money ----------------------------------------------------
pg_statement advertiser_create(const advertiser_spec& x, const principal& who);
pg_statement advertiser_load(int64_t id);  // advertiser row + balance + version
pg_statement advertiser_deactivate(int64_t id, const principal& who);
/// Compare-and-set on ad_balances.version; returns the history row (id,
/// advertiser, balances), or no row when the version did not match (someone
/// else committed first). parse_balance_change reads it.
pg_statement balance_change_write(int64_t advertiser_id, int64_t expected_version,
                                  int64_t balance_before, int64_t balance_after,
                                  const std::string& transaction_type, int64_t amount,
                                  const std::string& memo, const principal& who,
                                  int64_t lease_epoch);
/// Takes the advertiser's ledger lease for the live incarnation of `node_id`
/// (free, already ours, its holder's membership expired, or `take_over`),
/// adding one to its epoch. One row: the
/// new epoch (empty when not taken) and the holder before; no row: no
/// balance row.
pg_statement ledger_lease_acquire(int64_t advertiser_id, const std::string& node_id,
                                  int64_t incarnation, bool take_over);
/// Frees the leases `node_id` holds for advertisers not in `held`.
pg_statement ledger_leases_sweep(const std::string& node_id, const std::vector<int64_t>& held);
/// (node, ledger leases it holds) for every holder.
pg_statement lease_counts();
/// Deletes members expired for over 10 minutes.
pg_statement members_prune();
/// (holder, epoch) of an advertiser's lease.
pg_statement ledger_lease_read(int64_t advertiser_id);
/// Frees the lease if `lease_epoch` still holds it.
pg_statement ledger_lease_release(int64_t advertiser_id, int64_t lease_epoch);
/// Active campaigns of an advertiser with budgets and spend on `today`.
pg_statement ledger_campaigns(int64_t advertiser_id, const std::string& today);
pg_statement all_balances();
pg_statement all_daily_spend(const std::string& today);

// -- cluster membership (cluster_members) -----------------------------------------
/// Inserts or takes over this node's row (only from an expired or the same
/// incarnation): one row when registered.
pg_statement member_register(const cluster_member& m, int64_t lease_ms);
/// Renews this incarnation's row for `lease_ms`: no row when it was lost.
pg_statement member_heartbeat(const std::string& node_id, int64_t incarnation,
                              int64_t lease_ms);
pg_statement members_read();
std::vector<cluster_member> parse_members(const pg_rows& rows);
pg_statement member_leave(const std::string& node_id, int64_t incarnation);

// -- products -------------------------------------------------------------------
pg_statement product_create(const product_record& x, const principal& who);
pg_statement product_get(const std::string& product_id);

// -- campaigns ------------------------------------------------------------------
pg_statement campaign_create(const campaign_record& x, const principal& who);
pg_statement campaign_set_delivery(int64_t id, const std::string& delivery, const principal& who);
/// Adds `requests` ad requests to a placement's business hour (ad_traffic_hourly).
pg_statement traffic_add(const std::string& placement, const std::string& date, int64_t hour,
                         int64_t requests);
/// Requests per placement and hour over the 7 business days before `today`.
pg_statement traffic_curves_read(const std::string& today);
traffic_curves parse_traffic_curves(const pg_rows& rows, const std::string& today);
pg_statement campaign_load(int64_t id);
/// The advertiser of a campaign (no row: no such campaign).
pg_statement campaign_advertiser(int64_t id);
pg_statement campaign_set_status(int64_t id, const std::string& status, const principal& who);
/// Replace the bids: upsert the given placements, deactivate the others.
std::vector<pg_statement> campaign_replace_bids(int64_t id, const placement_bids& bids,
                                                const principal& who);
pg_statement campaign_deactivate(int64_t id, const principal& who);

// -- admin listings (keyset pages, id order) -----------------------------------
/// Up to `limit` advertisers with id > after_id (rows as advertiser_load);
/// `activation` "" (all, soft-deleted too), "ACTIVE" or "INACTIVE".
pg_statement advertiser_page(int64_t after_id, const std::string& activation, int64_t limit);
/// Up to `limit` campaigns with id > after_id (rows as campaign_load);
/// advertiser_id 0: any; `status` "": any, soft-deleted too, otherwise that
/// status among campaigns not deleted.
pg_statement campaign_page(int64_t after_id, int64_t advertiser_id, const std::string& status,
                           int64_t limit);

// -- clicks ------------------------------------------------------------------------
struct click_write {
  int64_t advertiser_id = 0;
  int64_t expected_version = 0;
  int64_t balance_before = 0;
  int64_t balance_after = 0;
  int64_t campaign_id = 0;
  int64_t amount = 0;
  std::string memo;
  std::string business_date;
  std::string ad_id;
  std::string device_id;
  std::string session_id;
  std::string request_id;
  std::string clicked_at;  // ISO 8601
  std::string product_id;
  std::string original_product_id;
  std::string exp_key;
  std::string exp_var;
};
/// A batch of one advertiser's charged clicks, in the order they were
/// applied (each row's balance_before is the previous row's balance_after;
/// the first carries the expected version), as one statement, all or nothing:
/// the balance compare-and-set once, spend once per campaign and day, a CLICK
/// history row and an ad_clicks row per click. Returns one history id per
/// click, or no row when the compare-and-set missed.
/// Refused (no row) unless the ledger lease's epoch is still `lease_epoch`.
pg_statement click_charge(const std::vector<click_write>& clicks, int64_t lease_epoch);
/// Seconds since the last charged click of an ad for a device within the last
/// `seconds` (one row; -1: none), by the database's clock on both ends (its
/// created_at), so that no node's clock skews it.
pg_statement pair_last_charge_age(const std::string& device_id, const std::string& ad_id,
                                  int64_t seconds);
/// An unbilled click (duplicate, no money, no budget).
pg_statement click_record(const click_write& c, const std::string& reason);
/// (ad_id, device_id, epoch seconds) of an advertiser's charged clicks in the last hour.
/// Charged clicks of the last `seconds`: ad_id, device_id, epoch, request_id.
pg_statement recent_charged_clicks(int64_t advertiser_id, int64_t seconds);

// -- experiments -------------------------------------------------------------------
pg_statement experiment_create(const experiment_mapping& x, const principal& who);
pg_statement experiment_list(const std::string& exp_key);  // "" = all active
/// Keywords and categories of every campaign not deleted.
pg_statement targeting_all();
void parse_targeting(const pg_row& row, std::vector<std::string>& keywords,
                     std::vector<std::string>& categories);

/// Every active mapping not ended before `today` (experiments are few).
pg_statement experiments_in_use(const std::string& today);
pg_statement experiment_deactivate(int64_t id, const principal& who);
experiment_mapping parse_experiment(const pg_row& row);

// -- conversions -------------------------------------------------------------------
/// The device's last click on each product (original or served code) within
/// the window: (original_product_id, click id, campaign_id, ad_id, served product_id).
pg_statement conversion_attribution(const std::string& device_id, int64_t window_hours,
                                    const std::vector<std::string>& product_ids);
/// Returns the new id, or no row when (order_id, product_id) was counted before.
pg_statement conversion_insert(const std::string& order_id, const std::string& product_id,
                               const std::string& device_id, const std::string& session_id,
                               const std::string& conversion_type, int64_t revenue,
                               int64_t campaign_id, const std::string& ad_id, int64_t click_id);

// -- auctions --------------------------------------------------------------------
/// ACTIVE, activated campaigns inside their dates with a bid for `placement`,
/// with their advertiser's balance and their spend on `today`.
/// `search_term` (SEARCH auctions; empty otherwise) limits the rows to the
/// campaigns that have it as a keyword.
pg_statement auction_candidates(const std::string& placement, const std::string& today,
                                const std::string& search_term);
/// Adds impressions and clicks to a campaign's statistics (no lost updates).
pg_statement campaign_stats_add(int64_t campaign_id, int64_t impressions, int64_t clicks);

/// A candidate (bid for the placement, money, statistics, targeting) from one row.
candidate parse_auction_row(const pg_row& row);

// -- parsing ------------------------------------------------------------------------
/// Row of advertiser_load / advertiser_create / advertiser_deactivate.
advertiser_record parse_advertiser(const pg_row& row);
int64_t parse_advertiser_version(const pg_row& row);
product_record parse_product(const pg_row& row);
/// Row of campaign_load (bids included) or campaign_create (bids empty).
campaign_record parse_campaign(const pg_row& row);
/// A {"PLACEMENT": bid} object as the statements return it (text).
placement_bids parse_bids(const std::string& text);
campaign_spend parse_campaign_spend(const pg_row& row, const std::string& today);

int64_t to_int(const std::string& s);
/// A PostgreSQL array literal of the items, each quoted and escaped: {"a","b\"c"}.
std::string array_literal(const std::vector<std::string>& items);
/// Appends the elements of array literal `more` to array literal `into`.
void append_array_literal(std::string& into, const std::string& more);

// -- idempotency keys -------------------------------------------------------------
/// (request_hash, result rows as JSON) of a key recorded in the last 24 h.
pg_statement idempotency_lookup(const std::string& who, const std::string& key);
/// Removes keys older than 24 h.
pg_statement idempotency_expire();

/// The result of a committed balance_change_write unit (also when replayed
/// for an Idempotency-Key); none when the compare-and-set missed.
std::optional<balance_change_result> parse_balance_change(const pg_results& results);

}  // namespace adserver::storage
