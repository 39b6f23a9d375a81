#include "storage/dashboard_statements.hpp"

#include "storage/statements.hpp"

namespace adserver::storage {

namespace {

#define EPOCH_S(x) "extract(epoch FROM " x ")::bigint"
#define EPOCH_MS(x) "(extract(epoch FROM " x ") * 1000)::bigint"

const std::vector<std::pair<const char*, const char*>> statements = {
  // Arrays, one element per row, so that the writer can merge many windows'
  // statements into one by joining the arrays (merge_dashboard_units). Rows
  // of one window are summed (two units of a campaign may meet in a merged
  // statement; ON CONFLICT may touch a row once) and locked in one order on
  // every node.
  {"dashboard_metrics_add",
   "INSERT INTO campaign_dashboard_metrics (campaign_id, metric_type, metric_value,"
   "  time_window_start, time_window_end, time_window_unit)"
   " SELECT t.c, t.m, sum(t.v)::bigint, to_timestamp(t.s), to_timestamp(t.e), min(t.u)"
   " FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],"
   "  $6::text[]) AS t(c, m, v, s, e, u)"
   " GROUP BY t.c, t.m, t.s, t.e ORDER BY t.c, t.m, t.s, t.e"
   " ON CONFLICT (campaign_id, metric_type, time_window_start, time_window_end) DO UPDATE"
   "  SET metric_value = campaign_dashboard_metrics.metric_value + EXCLUDED.metric_value"},
  {"variant_metrics_add",
   "INSERT INTO campaign_variant_metrics (campaign_id, exp_key, exp_var, metric_type,"
   "  metric_value, time_window_start, time_window_end)"
   " SELECT t.c, t.k, t.x, t.m, sum(t.v)::bigint, to_timestamp(t.s), to_timestamp(t.e)"
   " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[],"
   "  $6::bigint[], $7::bigint[]) AS t(c, k, x, m, v, s, e)"
   " GROUP BY t.c, t.k, t.x, t.m, t.s, t.e ORDER BY t.c, t.k, t.x, t.m, t.s, t.e"
   " ON CONFLICT (campaign_id, exp_key, exp_var, metric_type, time_window_start,"
   "  time_window_end) DO UPDATE"
   "  SET metric_value = campaign_variant_metrics.metric_value + EXCLUDED.metric_value"},
  {"dashboard_rows",
   "SELECT id, metric_type, metric_value, " EPOCH_S("time_window_start") ","
   "  " EPOCH_S("time_window_end") ", time_window_unit, " EPOCH_MS("created_at") ","
   "  " EPOCH_MS("updated_at")
   " FROM campaign_dashboard_metrics"
   " WHERE campaign_id = $1::bigint AND activated = 1 AND time_window_unit = $2"
   "  AND time_window_start >= to_timestamp($3::bigint)"
   "  AND time_window_end <= to_timestamp($4::bigint)"
   " ORDER BY time_window_start DESC, metric_type LIMIT $5::bigint"},
  {"dashboard_rows_all_units",
   "SELECT id, metric_type, metric_value, " EPOCH_S("time_window_start") ","
   "  " EPOCH_S("time_window_end") ", time_window_unit, " EPOCH_MS("created_at") ","
   "  " EPOCH_MS("updated_at")
   " FROM campaign_dashboard_metrics"
   " WHERE campaign_id = $1::bigint AND activated = 1"
   "  AND time_window_start >= to_timestamp($2::bigint)"
   "  AND time_window_end <= to_timestamp($3::bigint)"
   " ORDER BY time_window_start DESC, time_window_unit, metric_type LIMIT $4::bigint"},
  {"dashboard_rollup",
   "SELECT 0, metric_type, sum(metric_value)::bigint, " EPOCH_S("w") ","
   "  " EPOCH_S("((w AT TIME ZONE $5) + CASE WHEN $2 = 'WEEK' THEN interval '1 week'"
   "            ELSE interval '1 month' END) AT TIME ZONE $5") ", $2,"
   "  " EPOCH_MS("min(created_at)") ", " EPOCH_MS("max(updated_at)")
   " FROM (SELECT metric_type, metric_value, created_at, updated_at,"
   "        date_trunc(CASE WHEN $2 = 'WEEK' THEN 'week' ELSE 'month' END,"
   "                   time_window_start, $5) AS w"
   "       FROM campaign_dashboard_metrics"
   "       WHERE campaign_id = $1::bigint AND activated = 1 AND time_window_unit = 'DAY'"
   "        AND time_window_start >= to_timestamp($3::bigint)"
   "        AND time_window_end <= to_timestamp($4::bigint)) d"
   " GROUP BY w, metric_type ORDER BY w DESC, metric_type LIMIT $6::bigint"},
  // Each figure from the narrowest index range: (campaign_id, metric_type,
  // time_window_start) of the unique key, never a scan of the campaign's rows.
  {"dashboard_summary",
   "SELECT"
   "  (SELECT coalesce(sum(metric_value), 0) FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'EVENT_COUNT'"
   "    AND time_window_unit = 'DAY' AND activated = 1),"
   "  (SELECT coalesce(sum(metric_value), 0) FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'EVENT_COUNT'"
   "    AND time_window_start > to_timestamp($2::bigint - 86400 - 3600)"
   "    AND time_window_unit = 'HOUR' AND activated = 1),"
   "  (SELECT coalesce(sum(metric_value), 0) FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'EVENT_COUNT'"
   "    AND time_window_start > to_timestamp($2::bigint - 7 * 86400 - 3600)"
   "    AND time_window_unit = 'HOUR' AND activated = 1),"
   "  coalesce((SELECT " EPOCH_MS("max(updated_at)") " FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'EVENT_COUNT'"
   "    AND time_window_unit = 'DAY' AND activated = 1), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'IMPRESSIONS'), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'CLICKS'), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'CHARGED_CLICKS'), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'CONVERSIONS'), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'SPEND'), 0),"
   "  coalesce(sum(metric_value) FILTER (WHERE metric_type = 'REVENUE'), 0)"
   " FROM campaign_dashboard_metrics"
   " WHERE campaign_id = $1::bigint AND time_window_unit = 'DAY' AND activated = 1"
   "  AND metric_type IN ('IMPRESSIONS', 'CLICKS', 'CHARGED_CLICKS', 'CONVERSIONS', 'SPEND',"
   "                      'REVENUE')"},
  {"dashboard_variants",
   "SELECT exp_var, metric_type, sum(metric_value)::bigint FROM campaign_variant_metrics"
   " WHERE campaign_id = $1::bigint AND exp_key = $2 AND activated = 1"
   " GROUP BY exp_var, metric_type ORDER BY exp_var, metric_type"},
  {"advertiser_day_sums",
   "SELECT m.campaign_id, m.metric_type, sum(m.metric_value)::bigint"
   " FROM campaign_dashboard_metrics m"
   " WHERE m.campaign_id IN (SELECT id FROM ad_campaigns WHERE advertiser_id = $1::bigint)"
   "  AND m.time_window_unit = 'DAY' AND m.activated = 1"
   "  AND m.time_window_start >= to_timestamp($2::bigint)"
   "  AND m.time_window_end <= to_timestamp($3::bigint)"
   " GROUP BY m.campaign_id, m.metric_type"},
  {"advertiser_campaigns",
   "SELECT c.id, c.campaign_name, c.status, c.daily_budget, c.total_budget,"
   "  c.start_date::text, c.end_date::text, c.delivery,"
   "  (SELECT coalesce(jsonb_object_agg(b.placement, b.bid_price), '{}')::text"
   "   FROM ad_placement_bids b WHERE b.campaign_id = c.id AND b.activated = 1)"
   " FROM ad_campaigns c"
   " WHERE c.advertiser_id = $1::bigint AND c.activated = 1 ORDER BY c.id LIMIT 1000"},
  // MINUTE rows older than the retention, a bounded batch at a time (these
  // are operational aggregates, like expired idempotency keys: removed).
  {"dashboard_minutes_prune",
   "WITH gone AS (DELETE FROM campaign_dashboard_metrics WHERE id IN ("
   "  SELECT id FROM campaign_dashboard_metrics"
   "  WHERE time_window_unit = 'MINUTE'"
   "   AND time_window_start < now() - make_interval(days => $1::int)"
   "  LIMIT $2::int) RETURNING 1)"
   " SELECT count(*) FROM gone"},
  {"alert_rules_put",
   "INSERT INTO campaign_alert_rules (campaign_id, spend_per_hour_above, ctr_below,"
   "  ctr_min_impressions, no_impressions_minutes, anomaly_detection, created_user_id,"
   "  updated_user_id)"
   " VALUES ($1::bigint, nullif($2::bigint, -1), nullif($3::float8, -1), $4::bigint,"
   "  nullif($5::int, 0), $6::boolean, $7, $7)"
   " ON CONFLICT (campaign_id) DO UPDATE SET"
   "  spend_per_hour_above = EXCLUDED.spend_per_hour_above, ctr_below = EXCLUDED.ctr_below,"
   "  ctr_min_impressions = EXCLUDED.ctr_min_impressions,"
   "  no_impressions_minutes = EXCLUDED.no_impressions_minutes,"
   "  anomaly_detection = EXCLUDED.anomaly_detection, activated = 1,"
   "  updated_user_id = EXCLUDED.updated_user_id"
   " RETURNING campaign_id, coalesce(spend_per_hour_above, -1), coalesce(ctr_below, -1),"
   "  ctr_min_impressions, coalesce(no_impressions_minutes, 0), anomaly_detection"},
  {"alert_rules_get",
   "SELECT campaign_id, coalesce(spend_per_hour_above, -1), coalesce(ctr_below, -1),"
   "  ctr_min_impressions, coalesce(no_impressions_minutes, 0), anomaly_detection"
   " FROM campaign_alert_rules WHERE campaign_id = $1::bigint AND activated = 1"},
  {"alert_rules_all",
   "SELECT campaign_id, coalesce(spend_per_hour_above, -1), coalesce(ctr_below, -1),"
   "  ctr_min_impressions, coalesce(no_impressions_minutes, 0), anomaly_detection"
   " FROM campaign_alert_rules r WHERE activated = 1"
   "  AND EXISTS (SELECT 1 FROM ad_campaigns c WHERE c.id = r.campaign_id AND c.activated = 1)"
   " ORDER BY campaign_id LIMIT 100000"},
  {"alert_insert",
   "INSERT INTO campaign_alerts (campaign_id, alert_type, message, observed_value,"
   "  threshold_value, time_window_start)"
   " VALUES ($1::bigint, $2, $3, $4::float8, $5::float8, to_timestamp($6::bigint))"
   " ON CONFLICT (campaign_id, alert_type, time_window_start) DO NOTHING"
   " RETURNING id, " EPOCH_MS("fired_at")},
  {"alert_campaign_state",
   "SELECT c.status, c.activated,"
   "  coalesce((SELECT " EPOCH_S("time_window_end") " FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'IMPRESSIONS'"
   "    AND time_window_unit = 'MINUTE' AND activated = 1"
   "   ORDER BY time_window_start DESC LIMIT 1), 0)"
   " FROM ad_campaigns c WHERE c.id = $1::bigint"},
  {"alert_hour_figures",
   "SELECT metric_type, metric_value FROM campaign_dashboard_metrics"
   " WHERE campaign_id = $1::bigint AND time_window_unit = 'HOUR'"
   "  AND time_window_start = to_timestamp($2::bigint)"
   "  AND metric_type IN ('SPEND', 'CLICKS', 'IMPRESSIONS')"},
  {"alert_click_history",
   "SELECT h.k, d.n, coalesce(m.metric_value, -1)"
   " FROM (VALUES (0), (1)) h(k) CROSS JOIN generate_series(1, 7) d(n)"
   " LEFT JOIN campaign_dashboard_metrics m ON m.campaign_id = $1::bigint"
   "  AND m.metric_type = 'CLICKS' AND m.time_window_unit = 'HOUR'"
   "  AND m.time_window_start = (((to_timestamp($2::bigint) - h.k * interval '1 hour')"
   "      AT TIME ZONE $3) - d.n * interval '1 day') AT TIME ZONE $3"
   " UNION ALL"
   " SELECT 1, 0, coalesce((SELECT metric_value FROM campaign_dashboard_metrics"
   "   WHERE campaign_id = $1::bigint AND metric_type = 'CLICKS' AND time_window_unit = 'HOUR'"
   "   AND time_window_start = to_timestamp($2::bigint - 3600)), -1)"},
  {"alerts_recent",
   "SELECT id, alert_type, message, observed_value, threshold_value,"
   "  " EPOCH_S("time_window_start") ", " EPOCH_MS("fired_at")
   " FROM campaign_alerts WHERE campaign_id = $1::bigint AND activated = 1"
   " ORDER BY fired_at DESC, id DESC LIMIT $2::bigint"},
  {"api_key_create",
   "INSERT INTO advertiser_api_keys (advertiser_id, key_hash, key_prefix, created_user_id,"
   "  updated_user_id) VALUES ($1::bigint, $2, $3, $4, $4)"
   " RETURNING id, advertiser_id, key_prefix, " EPOCH_MS("created_at")},
  {"api_key_revoke",
   "UPDATE advertiser_api_keys SET revoked_at = now(), activated = 0, updated_user_id = $3"
   " WHERE id = $2::bigint AND advertiser_id = $1::bigint AND revoked_at IS NULL"
   " RETURNING id, advertiser_id, key_prefix, " EPOCH_MS("created_at")},
  {"api_keys_of",
   "SELECT id, advertiser_id, key_prefix, " EPOCH_MS("created_at") ","
   "  coalesce(" EPOCH_MS("revoked_at") ", 0)"
   " FROM advertiser_api_keys WHERE advertiser_id = $1::bigint ORDER BY id LIMIT 1000"},
  {"api_keys_active",
   "SELECT k.key_hash, k.advertiser_id, k.id FROM advertiser_api_keys k"
   " JOIN ad_advertisers a ON a.id = k.advertiser_id AND a.activated = 1"
   " WHERE k.revoked_at IS NULL AND k.activated = 1"},
};

std::string str(int64_t x) {
  return std::to_string(x);
}

std::string number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

}  // namespace

const std::vector<std::pair<const char*, const char*>>& dashboard_named_statements() {
  return statements;
}

pg_statement dashboard_metrics_add(int64_t campaign_id, const std::vector<metric_delta>& d) {
  std::vector<std::string> campaign(d.size(), str(campaign_id)), type, value, start, end, unit;
  for (auto& x : d) {
    type.emplace_back(metric_name(x.type));
    value.push_back(str(x.value));
    start.push_back(str(x.window.start));
    end.push_back(str(x.window.end));
    unit.emplace_back(unit_name(x.window.unit));
  }
  return {"dashboard_metrics_add",
          {array_literal(campaign), array_literal(type), array_literal(value),
           array_literal(start), array_literal(end), array_literal(unit)}};
}

pg_statement variant_metrics_add(int64_t campaign_id, const std::vector<variant_delta>& d) {
  std::vector<std::string> campaign(d.size(), str(campaign_id)), key, var, type, value, start,
    end;
  for (auto& x : d) {
    key.push_back(x.exp_key);
    var.push_back(x.exp_var);
    type.emplace_back(metric_name(x.type));
    value.push_back(str(x.value));
    start.push_back(str(x.day.start));
    end.push_back(str(x.day.end));
  }
  return {"variant_metrics_add",
          {array_literal(campaign), array_literal(key), array_literal(var), array_literal(type),
           array_literal(value), array_literal(start), array_literal(end)}};
}

bool dashboard_unit_mergeable(const std::vector<pg_statement>& unit) {
  if (unit.empty() || unit.size() > 2)
    return false;
  bool seen[2] = {false, false};  // dashboard_metrics_add, variant_metrics_add
  for (auto& s : unit) {
    int kind = s.name == "dashboard_metrics_add" ? 0 : s.name == "variant_metrics_add" ? 1 : -1;
    if (kind < 0 || seen[kind] || s.params.size() != (kind == 0 ? 6u : 7u))
      return false;
    seen[kind] = true;
  }
  return true;
}

std::vector<pg_statement> merge_dashboard_units(
  const std::vector<const std::vector<pg_statement>*>& units) {
  pg_statement metrics{"dashboard_metrics_add", std::vector<std::string>(6, "{}")};
  pg_statement variants{"variant_metrics_add", std::vector<std::string>(7, "{}")};
  for (auto* unit : units)
    for (auto& s : *unit) {
      auto& into = s.name == metrics.name ? metrics : variants;
      for (size_t k = 0; k < into.params.size() && k < s.params.size(); ++k)
        append_array_literal(into.params[k], s.params[k]);
    }
  // A kind no unit had stays all "{}": left out, as its statement would do nothing.
  std::vector<pg_statement> merged;
  for (auto* s : {&metrics, &variants})
    if (s->params[0] != "{}")
      merged.push_back(std::move(*s));
  return merged;
}

pg_statement dashboard_rows(int64_t campaign_id, const std::string& unit, int64_t from,
                            int64_t to, int64_t limit) {
  if (unit.empty())
    return {"dashboard_rows_all_units", {str(campaign_id), str(from), str(to), str(limit)}};
  return {"dashboard_rows", {str(campaign_id), unit, str(from), str(to), str(limit)}};
}

pg_statement dashboard_rollup(int64_t campaign_id, const std::string& unit, int64_t from,
                              int64_t to, const std::string& time_zone, int64_t limit) {
  return {"dashboard_rollup",
          {str(campaign_id), unit, str(from), str(to), time_zone, str(limit)}};
}

pg_statement dashboard_summary(int64_t campaign_id, int64_t now) {
  return {"dashboard_summary", {str(campaign_id), str(now)}};
}

pg_statement dashboard_variants(int64_t campaign_id, const std::string& exp_key) {
  return {"dashboard_variants", {str(campaign_id), exp_key}};
}

pg_statement advertiser_day_sums(int64_t advertiser_id, int64_t from, int64_t to) {
  return {"advertiser_day_sums", {str(advertiser_id), str(from), str(to)}};
}

pg_statement advertiser_campaigns(int64_t advertiser_id) {
  return {"advertiser_campaigns", {str(advertiser_id)}};
}

pg_statement dashboard_minutes_prune(int64_t retention_days, int64_t batch) {
  return {"dashboard_minutes_prune", {str(retention_days), str(batch)}};
}

pg_statement alert_rules_put(const alert_rules& r, const principal& who) {
  return {"alert_rules_put",
          {str(r.campaign_id), str(r.spend_per_hour_above > 0 ? r.spend_per_hour_above : -1),
           number(r.ctr_below > 0 ? r.ctr_below : -1), str(r.ctr_min_impressions),
           str(std::max<int64_t>(0, r.no_impressions_minutes)),
           r.anomaly_detection ? "true" : "false", who}};
}

pg_statement alert_rules_get(int64_t campaign_id) {
  return {"alert_rules_get", {str(campaign_id)}};
}

pg_statement alert_rules_all() {
  return {"alert_rules_all", {}};
}

alert_rules parse_alert_rules(const pg_row& row) {
  alert_rules r;
  r.campaign_id = std::stoll(row.at(0));
  r.spend_per_hour_above = std::stoll(row.at(1));
  r.ctr_below = std::stod(row.at(2));
  r.ctr_min_impressions = std::stoll(row.at(3));
  r.no_impressions_minutes = std::stoll(row.at(4));
  r.anomaly_detection = row.at(5) == "t" || row.at(5) == "true";
  return r;
}

pg_statement alert_insert(int64_t campaign_id, const fired_alert& a) {
  return {"alert_insert",
          {str(campaign_id), a.type, a.message, number(a.observed), number(a.threshold),
           str(a.window_start)}};
}

pg_statement alert_campaign_state(int64_t campaign_id) {
  return {"alert_campaign_state", {str(campaign_id)}};
}

pg_statement alert_hour_figures(int64_t campaign_id, int64_t hour_start) {
  return {"alert_hour_figures", {str(campaign_id), str(hour_start)}};
}

pg_statement alert_click_history(int64_t campaign_id, int64_t hour_start,
                                 const std::string& time_zone) {
  return {"alert_click_history", {str(campaign_id), str(hour_start), time_zone}};
}

pg_statement alerts_recent(int64_t campaign_id, int64_t limit) {
  return {"alerts_recent", {str(campaign_id), str(limit)}};
}

pg_statement api_key_create(int64_t advertiser_id, const std::string& key_hash,
                            const std::string& prefix, const principal& who) {
  return {"api_key_create", {str(advertiser_id), key_hash, prefix, who}};
}

pg_statement api_key_revoke(int64_t advertiser_id, int64_t key_id, const principal& who) {
  return {"api_key_revoke", {str(advertiser_id), str(key_id), who}};
}

pg_statement api_keys_of(int64_t advertiser_id) {
  return {"api_keys_of", {str(advertiser_id)}};
}

pg_statement api_keys_active() {
  return {"api_keys_active", {}};
}

}  // namespace adserver::storage
