#pragma once
// The SQL of dashboards, alerts and advertiser API keys (named prepared
// statements like storage/statements.hpp; registered through it).
#include "protocol/dashboard_windows.hpp"
#include "protocol/records.hpp"

#include <string>
#include <utility>
#include <vector>

namespace adserver::storage {

/// (name, SQL) of the dashboard statements.
const std::vector<std::pair<const char*, const char*>>& dashboard_named_statements();

// -- writes of dashboard-window actors ---------------------------------------
/// Adds the deltas to campaign_dashboard_metrics (one INSERT ... ON CONFLICT
/// DO UPDATE SET metric_value = metric_value + EXCLUDED.metric_value).
pg_statement dashboard_metrics_add(int64_t campaign_id, const std::vector<metric_delta>& d);
/// The same for campaign_variant_metrics.
pg_statement variant_metrics_add(int64_t campaign_id, const std::vector<variant_delta>& d);
/// A unit of one dashboard_metrics_add and/or one variant_metrics_add: the
/// counters writer merges consecutive such units into one.
bool dashboard_unit_mergeable(const std::vector<pg_statement>& unit);
/// One unit doing what the (mergeable) units do: at most one statement of
/// each kind, their arrays joined. Its statements return no rows, as theirs.
std::vector<pg_statement> merge_dashboard_units(
  const std::vector<const std::vector<pg_statement>*>& units);

// -- reads of the dashboard endpoints (time bounds in Unix seconds) ---------
/// Rows of MINUTE/HOUR/DAY windows (one unit, or "" for all) that lie in
/// [from, to), newest first, at most `limit`:
/// id, metric_type, metric_value, start, end, unit, created_at, updated_at.
pg_statement dashboard_rows(int64_t campaign_id, const std::string& unit, int64_t from,
                            int64_t to, int64_t limit);
/// WEEK or MONTH rows rolled up from DAY rows in [from, to), same columns
/// (id 0; created_at/updated_at the earliest/latest of the days).
pg_statement dashboard_rollup(int64_t campaign_id, const std::string& unit, int64_t from,
                              int64_t to, const std::string& time_zone, int64_t limit);
/// totalEvents, eventsLast24Hours, eventsLast7Days, lastUpdated, then the
/// all-time impressions, clicks, charged clicks, conversions, spend, revenue.
pg_statement dashboard_summary(int64_t campaign_id, int64_t now);
/// Per exp_var of one exp_key: exp_var, metric_type, sum.
pg_statement dashboard_variants(int64_t campaign_id, const std::string& exp_key);

/// Sums of each metric per campaign of an advertiser over DAY windows in
/// [from, to): campaign_id, metric_type, sum.
pg_statement advertiser_day_sums(int64_t advertiser_id, int64_t from, int64_t to);
/// The advertiser's campaigns (not deleted): id, name, status, daily_budget,
/// total_budget, start_date, end_date.
pg_statement advertiser_campaigns(int64_t advertiser_id);

/// Deletes up to `batch` MINUTE rows older than `retention_days`; one row:
/// how many went.
pg_statement dashboard_minutes_prune(int64_t retention_days, int64_t batch);

// -- alerts ----------------------------------------------------------------------
pg_statement alert_rules_put(const alert_rules& r, const principal& who);
pg_statement alert_rules_get(int64_t campaign_id);
pg_statement alert_rules_all();
alert_rules parse_alert_rules(const pg_row& row);
/// Records a fired alert once per (campaign, type, window); returns
/// id, fired_at when it is new, no row when it had fired already.
pg_statement alert_insert(int64_t campaign_id, const fired_alert& a);
/// The campaign's status, activated, and the end (Unix s) of its last
/// MINUTE window with impressions (0: none).
pg_statement alert_campaign_state(int64_t campaign_id);
/// Current-hour SPEND, CLICKS, IMPRESSIONS of a campaign: metric_type, value.
pg_statement alert_hour_figures(int64_t campaign_id, int64_t hour_start);
/// CLICKS of the same local hour (hour k = 0: `hour_start`, 1: the hour
/// before) on each of the 7 previous days: k, days back, clicks (-1: no row).
pg_statement alert_click_history(int64_t campaign_id, int64_t hour_start,
                                 const std::string& time_zone);
/// Fired alerts of a campaign, newest first: id, alert_type, message,
/// observed, threshold, time_window_start, fired_at.
pg_statement alerts_recent(int64_t campaign_id, int64_t limit);

// -- advertiser API keys ---------------------------------------------------------
pg_statement api_key_create(int64_t advertiser_id, const std::string& key_hash,
                            const std::string& prefix, const principal& who);
pg_statement api_key_revoke(int64_t advertiser_id, int64_t key_id, const principal& who);
pg_statement api_keys_of(int64_t advertiser_id);
/// Every usable key: key_hash, advertiser_id, id.
pg_statement api_keys_active();

}  // namespace adserver::storage
