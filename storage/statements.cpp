#include "storage/statements.hpp"

#include "storage/click_merge.hpp"
#include "storage/click_sql.hpp"
#include "storage/dashboard_statements.hpp"
#include "storage/integrity_statements.hpp"

#include <nlohmann/json.hpp>

namespace adserver::storage {

namespace {

#define TS(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MSTZH:TZM')"
#define AUDIT(p) p "activated = 1, " TS(p "created_at") ", " TS(p "updated_at") ", " \
  p "created_user_id, " p "updated_user_id"

#define ADVERTISER_COLS(a, b)                                                     \
  a "id, " a "advertiser_name, " a "business_number, " a "email, " a "business_type, " \
  a "status, coalesce(" b "current_balance, 0), " AUDIT(a) ", coalesce(" b "version, 0)"

#define CAMPAIGN_COLS(c)                                                          \
  c "id, " c "advertiser_id, " c "campaign_name, " c "campaign_type, " c "product_id, " \
  c "status, " c "start_date::text, " c "end_date::text, " c "daily_budget, "      \
  c "total_budget, " c "target_categories::text, " c "target_keywords::text, "       \
  c "delivery, " AUDIT(c)

#define PRODUCT_COLS "product_id, product_name, category, price, " AUDIT("")
#define MAPPING_COLS "id, exp_key, exp_var, original_product_id, experiment_product_id," \
  " start_date::text, end_date::text, " AUDIT("")

const std::vector<std::pair<const char*, const char*>> statements = {
  {"advertiser_create",
   "WITH adv AS ("
   "  INSERT INTO ad_advertisers (advertiser_name, business_number, email, business_type,"
   "                              status, created_user_id, updated_user_id)"
   "  VALUES ($1, $2, $3, $4, 'ACTIVE', $6, $6)"
   "  ON CONFLICT (business_number) WHERE activated = 1 DO NOTHING RETURNING *),"
   " bal AS ("
   "  INSERT INTO ad_balances (advertiser_id, current_balance, version, created_user_id,"
   "                           updated_user_id)"
   "  SELECT id, $5::bigint, 0, $6, $6 FROM adv RETURNING *),"
   " hist AS ("
   "  INSERT INTO ad_balance_histories (advertiser_id, transaction_type, amount,"
   "      balance_before, balance_after, memo, created_user_id, updated_user_id)"
   "  SELECT id, 'INITIAL', $5::bigint, 0, $5::bigint, 'initial balance', $6, $6"
   "  FROM adv WHERE $5::bigint > 0)"
   " SELECT " ADVERTISER_COLS("a.", "b.") " FROM adv a JOIN bal b ON b.advertiser_id = a.id"},
  {"advertiser_load",
   "SELECT " ADVERTISER_COLS("a.", "b.") " FROM ad_advertisers a"
   " LEFT JOIN ad_balances b ON b.advertiser_id = a.id WHERE a.id = $1::bigint"},
  {"advertiser_deactivate",
   "WITH a AS (UPDATE ad_advertisers SET activated = 0, status = 'DELETED',"
   "  updated_user_id = $2 WHERE id = $1::bigint RETURNING *)"
   " SELECT " ADVERTISER_COLS("a.", "b.") " FROM a"
   " LEFT JOIN ad_balances b ON b.advertiser_id = a.id"},
  {"balance_change_write",
   "WITH upd AS ("
   "  UPDATE ad_balances SET current_balance = $4::bigint, version = $2::bigint + 1,"
   "    updated_user_id = $8"
   "  WHERE advertiser_id = $1::bigint AND version = $2::bigint"
   "    AND current_balance = $3::bigint AND lease_epoch = $9::bigint RETURNING advertiser_id)"
   " INSERT INTO ad_balance_histories (advertiser_id, transaction_type, amount,"
   "   balance_before, balance_after, memo, created_user_id, updated_user_id)"
   " SELECT advertiser_id, $5, $6::bigint, $3::bigint, $4::bigint, $7, $8, $8 FROM upd"
   " RETURNING id, advertiser_id, balance_before, balance_after"},
  // -- ledger leases and cluster membership (migration 012) --------------
  {"ledger_lease_acquire",
   // Only by the live incarnation of node $2 (a process whose membership
   // expired or was replaced takes nothing). Free, already ours, held by a
   // node whose membership expired, or $4 (single nodes take over): taken,
   // epoch + 1. Otherwise no epoch, and the holder.
   "WITH taken AS ("
   "  UPDATE ad_balances b SET lease_node = $2, lease_epoch = b.lease_epoch + 1"
   "  WHERE b.advertiser_id = $1::bigint"
   "    AND EXISTS (SELECT 1 FROM cluster_members me WHERE me.node_id = $2"
   "                AND me.incarnation = $3::bigint AND me.expires_at > now())"
   "    AND ($4::boolean OR b.lease_node IS NULL OR b.lease_node = $2"
   "         OR NOT EXISTS (SELECT 1 FROM cluster_members m"
   "                        WHERE m.node_id = b.lease_node AND m.expires_at > now()))"
   "  RETURNING b.lease_epoch)"
   " SELECT (SELECT lease_epoch FROM taken), coalesce(b.lease_node, '')"
   " FROM ad_balances b WHERE b.advertiser_id = $1::bigint"},
  {"campaign_advertiser", "SELECT advertiser_id FROM ad_campaigns WHERE id = $1::bigint"},
  {"ledger_lease_read",
   "SELECT coalesce(lease_node, ''), lease_epoch FROM ad_balances WHERE advertiser_id = $1::bigint"},
  {"ledger_leases_sweep",
   // Leases this node holds for advertisers it has no ledger for (a release
   // that failed, a load that failed after the take).
   "UPDATE ad_balances SET lease_node = NULL"
   " WHERE lease_node = $1 AND NOT (advertiser_id = ANY($2::bigint[]))"},
  {"lease_counts",
   "SELECT lease_node, count(*) FROM ad_balances WHERE lease_node IS NOT NULL GROUP BY 1"},
  {"members_prune",
   "DELETE FROM cluster_members WHERE expires_at < now() - interval '10 minutes'"},
  {"ledger_lease_release",
   "UPDATE ad_balances SET lease_node = NULL"
   " WHERE advertiser_id = $1::bigint AND lease_epoch = $2::bigint"},
  {"member_register",
   // A node id another live process holds is not taken over: that process
   // still renews it (wait for its expiry, or choose another node.name).
   "INSERT INTO cluster_members AS m (node_id, incarnation, http_url, actor_host, actor_port,"
   "  expires_at)"
   " VALUES ($1, $2::bigint, $3, $4, $5::integer, now() + $6::bigint * interval '1 millisecond')"
   " ON CONFLICT (node_id) DO UPDATE SET incarnation = EXCLUDED.incarnation,"
   "  http_url = EXCLUDED.http_url, actor_host = EXCLUDED.actor_host,"
   "  actor_port = EXCLUDED.actor_port, started_at = now(), heartbeat_at = now(),"
   "  expires_at = EXCLUDED.expires_at"
   " WHERE m.expires_at <= now() OR m.incarnation = EXCLUDED.incarnation"
   " RETURNING node_id"},
  {"member_heartbeat",
   "UPDATE cluster_members SET heartbeat_at = now(),"
   "  expires_at = now() + $3::bigint * interval '1 millisecond'"
   " WHERE node_id = $1 AND incarnation = $2::bigint RETURNING node_id"},
  {"members_read",
   "SELECT node_id, incarnation, http_url, actor_host, actor_port,"
   "  (expires_at > now())::int, to_char(heartbeat_at AT TIME ZONE 'UTC',"
   "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), to_char(started_at AT TIME ZONE 'UTC',"
   "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
   " FROM cluster_members ORDER BY node_id"},
  {"member_leave",
   "DELETE FROM cluster_members WHERE node_id = $1 AND incarnation = $2::bigint"},
  {"ledger_campaigns",
   "SELECT c.id, c.daily_budget, c.total_budget, coalesce(d.spent, 0),"
   "       coalesce(s.spent_total, 0),"
   "       coalesce((SELECT max(b.bid_price) FROM ad_placement_bids b"
   "                  WHERE b.campaign_id = c.id AND b.activated = 1), 0),"
   "       c.status, c.start_date::text, c.end_date::text, c.delivery"
   " FROM ad_campaigns c"
   " LEFT JOIN ad_campaign_spend s ON s.campaign_id = c.id"
   " LEFT JOIN ad_campaign_daily_spend d ON d.campaign_id = c.id AND d.spend_date = $2::date"
   " WHERE c.advertiser_id = $1::bigint AND c.activated = 1 ORDER BY c.id"},
  {"all_balances",
   "SELECT b.advertiser_id, b.current_balance FROM ad_balances b"},
  {"all_daily_spend",
   "SELECT campaign_id, spent FROM ad_campaign_daily_spend WHERE spend_date = $1::date"},
  {"product_create",
   "INSERT INTO ad_products_meta (product_id, product_name, category, price,"
   "  created_user_id, updated_user_id) VALUES ($1, $2, $3, $4::bigint, $5, $5)"
   " ON CONFLICT (product_id) DO NOTHING RETURNING " PRODUCT_COLS},
  {"product_get", "SELECT " PRODUCT_COLS " FROM ad_products_meta WHERE product_id = $1"},
  {"campaign_create",
   "WITH c AS ("
   "  INSERT INTO ad_campaigns (advertiser_id, campaign_name, campaign_type, product_id,"
   "    status, start_date, end_date, daily_budget, total_budget, target_categories,"
   "    target_keywords, delivery, created_user_id, updated_user_id)"
   "  VALUES ($1::bigint, $2, $3, $4, 'PENDING', $5::date, $6::date, $7::bigint,"
   "          $8::bigint, $9::jsonb, $10::jsonb, $13, $11, $11) RETURNING *),"
   " b AS ("
   "  INSERT INTO ad_placement_bids (campaign_id, placement, bid_price, created_user_id,"
   "    updated_user_id)"
   "  SELECT c.id, e.key, e.value::bigint, $11, $11 FROM c, jsonb_each_text($12::jsonb) e),"
   " s AS ("
   "  INSERT INTO ad_campaign_spend (campaign_id, advertiser_id, created_user_id,"
   "    updated_user_id) SELECT id, advertiser_id, $11, $11 FROM c)"
   " SELECT " CAMPAIGN_COLS("c.") ", $12::jsonb::text FROM c"},
  {"campaign_load",
   "SELECT " CAMPAIGN_COLS("c.") ","
   " (SELECT coalesce(jsonb_object_agg(placement, bid_price), '{}')::text"
   "  FROM ad_placement_bids WHERE campaign_id = c.id AND activated = 1)"
   " FROM ad_campaigns c WHERE c.id = $1::bigint"},
  {"campaign_set_status",
   "UPDATE ad_campaigns c SET status = $2, updated_user_id = $3 WHERE id = $1::bigint"
   " RETURNING " CAMPAIGN_COLS("c.") ", '{}'"},
  {"campaign_set_delivery",
   "UPDATE ad_campaigns c SET delivery = $2, updated_user_id = $3 WHERE id = $1::bigint"
   " RETURNING " CAMPAIGN_COLS("c.") ", '{}'"},
  {"traffic_add",
   "INSERT INTO ad_traffic_hourly (placement, traffic_date, traffic_hour, requests,"
   "  created_user_id, updated_user_id)"
   " VALUES ($1, $2::date, $3::smallint, $4::bigint, 'traffic', 'traffic')"
   " ON CONFLICT (placement, traffic_date, traffic_hour)"
   " DO UPDATE SET requests = ad_traffic_hourly.requests + EXCLUDED.requests"},
  {"traffic_curves",
   "SELECT placement, traffic_hour, sum(requests)::bigint FROM ad_traffic_hourly"
   " WHERE activated = 1 AND traffic_date >= $1::date - 7 AND traffic_date < $1::date"
   " GROUP BY placement, traffic_hour"},
  {"campaign_upsert_bids",
   "INSERT INTO ad_placement_bids (campaign_id, placement, bid_price, created_user_id,"
   "  updated_user_id)"
   " SELECT $1::bigint, e.key, e.value::bigint, $3, $3 FROM jsonb_each_text($2::jsonb) e"
   " ON CONFLICT (campaign_id, placement) DO UPDATE SET bid_price = EXCLUDED.bid_price,"
   "   activated = 1, updated_user_id = EXCLUDED.updated_user_id"},
  {"campaign_drop_other_bids",
   "UPDATE ad_placement_bids SET activated = 0, updated_user_id = $3"
   " WHERE campaign_id = $1::bigint AND activated = 1 AND NOT ($2::jsonb ? placement)"},
  {"auction_candidates",
   "SELECT c.id, c.advertiser_id, c.product_id, b.bid_price, c.daily_budget, c.total_budget,"
   "  c.target_categories::text, c.target_keywords::text, coalesce(bal.current_balance, 0),"
   "  coalesce(d.spent, 0), coalesce(s.spent_total, 0), coalesce(st.impressions, 0),"
   "  coalesce(st.clicks, 0), coalesce(p.category, ''), c.delivery,"
   "  (SELECT coalesce(jsonb_object_agg(ob.placement, ob.bid_price), '{}')::text"
   "   FROM ad_placement_bids ob WHERE ob.campaign_id = c.id AND ob.activated = 1)"
   " FROM ad_campaigns c"
   " LEFT JOIN ad_campaign_stats st ON st.campaign_id = c.id"
   " LEFT JOIN ad_products_meta p ON p.product_id = c.product_id"
   " JOIN ad_placement_bids b ON b.campaign_id = c.id AND b.placement = $1 AND b.activated = 1"
   " JOIN ad_advertisers a ON a.id = c.advertiser_id AND a.activated = 1"
   " LEFT JOIN ad_balances bal ON bal.advertiser_id = c.advertiser_id"
   " LEFT JOIN ad_campaign_spend s ON s.campaign_id = c.id"
   " LEFT JOIN ad_campaign_daily_spend d ON d.campaign_id = c.id AND d.spend_date = $2::date"
   " WHERE c.activated = 1 AND c.status = 'ACTIVE'"
   "   AND c.start_date <= $2::date AND c.end_date >= $2::date"
   // A SEARCH auction reads the campaigns of its term only (GIN index of
   // migration 011), not every SEARCH campaign of the day.
   "   AND ($3 = '' OR c.target_keywords @> to_jsonb($3::text))"},
  {"pair_last_charge_age",
   // clicked_at (a node's clock) only narrows the index range, with a day
   // to spare; the age is from created_at (the database's clock; never
   // below 0, which would read as "none", if that clock stepped back).
   "SELECT CASE WHEN max(created_at) IS NULL THEN -1"
   "  ELSE greatest(0, floor(extract(epoch FROM now() - max(created_at))))::bigint END"
   " FROM ad_clicks WHERE device_id = $1 AND ad_id = $2 AND charged"
   "   AND clicked_at > now() - make_interval(secs => $3::bigint + 86400)"
   "   AND created_at > now() - make_interval(secs => $3::bigint)"},
  {"click_charge",
   // One statement for a batch of one advertiser's clicks: the balance moves
   // once (compare-and-set on version and balance, version + count), spend
   // once per campaign and day; a history row and an ad_clicks row per click.
   // The arrays are aligned, one element per click. No row when the
   // compare-and-set missed.
   "WITH upd AS ("
   "  UPDATE ad_balances SET current_balance = $4::bigint, version = $2::bigint + $5::bigint,"
   "    updated_user_id = 'click'"
   "  WHERE advertiser_id = $1::bigint AND version = $2::bigint"
   "    AND current_balance = $3::bigint AND lease_epoch = $21::bigint"
   "  RETURNING advertiser_id),"
   " c AS ("
   "  SELECT t.* FROM unnest($6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[],"
   "    $11::date[], $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[],"
   "    $17::text[], $18::text[], $19::text[], $20::text[]) WITH ORDINALITY"
   "    AS t(campaign_id, amount, balance_before, balance_after, memo, spend_date, ad_id,"
   "      device_id, session_id, request_id, clicked_at, product_id, original_product_id,"
   "      exp_key, exp_var, n)"
   "  WHERE EXISTS (SELECT 1 FROM upd)),"
   " hist AS ("
   "  INSERT INTO ad_balance_histories (advertiser_id, transaction_type, amount,"
   "    balance_before, balance_after, campaign_id, memo, created_user_id, updated_user_id)"
   "  SELECT $1::bigint, 'CLICK', amount, balance_before, balance_after, campaign_id, memo,"
   "    'click', 'click' FROM c ORDER BY n RETURNING id),"
   ADSERVER_CLICK_SPEND_CTES
   " clk AS ("
   "  INSERT INTO ad_clicks (advertiser_id, campaign_id, ad_id, device_id, session_id,"
   "    request_id, clicked_at, charged, amount, product_id, original_product_id, exp_key,"
   "    exp_var)"
   "  SELECT $1::bigint, campaign_id, ad_id, device_id, session_id, request_id, clicked_at,"
   "    true, amount, product_id, original_product_id, exp_key, exp_var FROM c)"
   " SELECT id FROM hist"},
  {"click_record",
   "INSERT INTO ad_clicks (advertiser_id, campaign_id, ad_id, device_id, session_id,"
   "  request_id, clicked_at, charged, amount, reason, product_id, original_product_id,"
   "  exp_key, exp_var)"
   " VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7::timestamptz, false, 0, $8, $9, $10,"
   "  $11, $12)"},
  {"conversion_attribution",
   "SELECT DISTINCT ON (original_product_id) original_product_id, id, campaign_id, ad_id,"
   "  product_id, exp_key, exp_var"
   " FROM ad_clicks"
   " WHERE device_id = $1 AND clicked_at > now() - make_interval(hours => $2::int)"
   "   AND (original_product_id = ANY($3::text[]) OR product_id = ANY($3::text[]))"
   " ORDER BY original_product_id, clicked_at DESC, id DESC"},
  {"conversion_insert",
   "INSERT INTO ad_conversions (order_id, product_id, device_id, session_id, conversion_type,"
   "  revenue_amount, campaign_id, ad_id, click_id)"
   " VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint, $8, $9::bigint)"
   " ON CONFLICT (order_id, product_id) DO NOTHING RETURNING id"},
  {"recent_charged_clicks",
   "SELECT ad_id, device_id, extract(epoch FROM clicked_at)::bigint, request_id FROM ad_clicks"
   " WHERE advertiser_id = $1::bigint AND charged"
   "   AND clicked_at > now() - make_interval(secs => $2::bigint)"
   " ORDER BY clicked_at"},
  {"campaign_stats_add",
   "INSERT INTO ad_campaign_stats (campaign_id, impressions, clicks)"
   " VALUES ($1::bigint, $2::bigint, $3::bigint)"
   " ON CONFLICT (campaign_id) DO UPDATE SET"
   "   impressions = ad_campaign_stats.impressions + EXCLUDED.impressions,"
   "   clicks = ad_campaign_stats.clicks + EXCLUDED.clicks"},
  {"experiment_create",
   "INSERT INTO experiment_mapping (exp_key, exp_var, original_product_id,"
   "  experiment_product_id, start_date, end_date, created_user_id, updated_user_id)"
   " VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, $7) RETURNING " MAPPING_COLS},
  {"experiment_list",
   "SELECT " MAPPING_COLS " FROM experiment_mapping"
   " WHERE activated = 1 AND ($1 = '' OR exp_key = $1) ORDER BY id"},
  {"targeting_all",
   "SELECT target_keywords::text, target_categories::text FROM ad_campaigns"
   " WHERE activated = 1"},
  {"experiments_in_use",
   "SELECT " MAPPING_COLS " FROM experiment_mapping"
   " WHERE activated = 1 AND end_date >= $1::date ORDER BY id"},
  {"experiment_deactivate",
   "UPDATE experiment_mapping SET activated = 0, updated_user_id = $2"
   " WHERE id = $1::bigint RETURNING " MAPPING_COLS},
  {"migrations_applied", "SELECT version FROM schema_migrations ORDER BY version"},
  {"idempotency_lookup",
   "SELECT request_hash, result::text FROM idempotency_keys"
   " WHERE principal = $1 AND idem_key = $2 AND created_at > now() - interval '24 hours'"},
  {"idempotency_expire",
   "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'"},
  {"campaign_deactivate",
   "UPDATE ad_campaigns c SET activated = 0, updated_user_id = $2 WHERE id = $1::bigint"
   " RETURNING " CAMPAIGN_COLS("c.") ", '{}'"},
  // Keyset pages for the admin listings: the primary key's order, a bounded
  // LIMIT, the same columns as the single loads (so parse_* reads them).
  {"advertiser_page",
   "SELECT " ADVERTISER_COLS("a.", "b.") " FROM ad_advertisers a"
   " LEFT JOIN ad_balances b ON b.advertiser_id = a.id"
   " WHERE a.id > $1::bigint"
   "   AND ($2::text = '' OR a.activated = CASE $2::text WHEN 'ACTIVE' THEN 1 ELSE 0 END)"
   " ORDER BY a.id LIMIT $3::bigint"},
  {"campaign_page",
   "SELECT " CAMPAIGN_COLS("c.") ","
   " (SELECT coalesce(jsonb_object_agg(placement, bid_price), '{}')::text"
   "  FROM ad_placement_bids WHERE campaign_id = c.id AND activated = 1)"
   " FROM ad_campaigns c WHERE c.id > $1::bigint"
   "   AND ($2::bigint = 0 OR c.advertiser_id = $2::bigint)"
   "   AND ($3::text = '' OR (c.status = $3::text AND c.activated = 1))"
   " ORDER BY c.id LIMIT $4::bigint"},
};

#undef TS
#undef AUDIT
#undef ADVERTISER_COLS
#undef CAMPAIGN_COLS
#undef PRODUCT_COLS
#undef MAPPING_COLS

std::string str(int64_t x) {
  return std::to_string(x);
}

std::string bids_json(const placement_bids& bids) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : bids)
    j[k] = v;
  return j.dump();
}

std::vector<std::string> string_array(const std::string& json_text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_array())
    for (auto& x : j)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

audit_fields parse_audit(const pg_row& row, size_t at) {
  audit_fields a;
  a.activated = row.at(at) == "t";
  a.created_at = row.at(at + 1);
  a.updated_at = row.at(at + 2);
  a.created_user_id = row.at(at + 3);
  a.updated_user_id = row.at(at + 4);
  return a;
}

}  // namespace

// Every element quoted, quotes and backslashes escaped (numbers, dates and
// timestamps read from it too).
std::string array_literal(const std::vector<std::string>& items) {
  std::string array = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    array += i ? ",\"" : "\"";
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\')
        array += '\\';
      array += ch;
    }
    array += '"';
  }
  array += "}";
  return array;
}

void append_array_literal(std::string& into, const std::string& more) {
  if (more.size() <= 2)
    return;
  if (into.size() <= 2) {
    into = more;
    return;
  }
  into.pop_back();  // '}'
  into += ',';
  into.append(more, 1, std::string::npos);
}

placement_bids parse_bids(const std::string& text) {
  placement_bids bids;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    for (auto& [k, v] : j.items())
      if (v.is_number_integer())
        bids[k] = v.get<int64_t>();
  return bids;
}

const std::vector<std::pair<const char*, const char*>>& named_statements() {
  static const auto all = [] {
    auto v = statements;
    auto& more = dashboard_named_statements();
    v.insert(v.end(), more.begin(), more.end());
    auto& checks = integrity_named_statements();
    v.insert(v.end(), checks.begin(), checks.end());
    auto& merged = click_merge_named_statements();
    v.insert(v.end(), merged.begin(), merged.end());
    return v;
  }();
  return all;
}

int64_t to_int(const std::string& s) {
  if (s.empty())
    return 0;
  return std::stoll(s);
}

pg_statement advertiser_create(const advertiser_spec& x, const principal& who) {
  return {"advertiser_create",
          {x.advertiser_name, x.business_number, x.email, x.business_type,
           str(x.initial_balance), who}};
}

pg_statement advertiser_load(int64_t id) {
  return {"advertiser_load", {str(id)}};
}

pg_statement advertiser_deactivate(int64_t id, const principal& who) {
  return {"advertiser_deactivate", {str(id), who}};
}

pg_statement balance_change_write(int64_t advertiser_id, int64_t expected_version,
                                  int64_t balance_before, int64_t balance_after,
                                  const std::string& transaction_type, int64_t amount,
                                  const std::string& memo, const principal& who,
                                  int64_t lease_epoch) {
  return {"balance_change_write",
          {str(advertiser_id), str(expected_version), str(balance_before),
           str(balance_after), transaction_type, str(amount), memo, who, str(lease_epoch)}};
}

pg_statement ledger_lease_acquire(int64_t advertiser_id, const std::string& node_id,
                                  int64_t incarnation, bool take_over) {
  return {"ledger_lease_acquire",
          {str(advertiser_id), node_id, str(incarnation), take_over ? "true" : "false"}};
}

pg_statement ledger_leases_sweep(const std::string& node_id, const std::vector<int64_t>& held) {
  std::vector<std::string> ids;
  for (auto id : held)
    ids.push_back(str(id));
  return {"ledger_leases_sweep", {node_id, array_literal(ids)}};
}

pg_statement lease_counts() {
  return {"lease_counts", {}};
}

pg_statement members_prune() {
  return {"members_prune", {}};
}

pg_statement ledger_lease_read(int64_t advertiser_id) {
  return {"ledger_lease_read", {str(advertiser_id)}};
}

pg_statement ledger_lease_release(int64_t advertiser_id, int64_t lease_epoch) {
  return {"ledger_lease_release", {str(advertiser_id), str(lease_epoch)}};
}

pg_statement member_register(const cluster_member& m, int64_t lease_ms) {
  return {"member_register",
          {m.node_id, str(m.incarnation), m.http_url, m.actor_host, str(m.actor_port),
           str(lease_ms)}};
}

pg_statement member_heartbeat(const std::string& node_id, int64_t incarnation,
                              int64_t lease_ms) {
  return {"member_heartbeat", {node_id, str(incarnation), str(lease_ms)}};
}

pg_statement members_read() {
  return {"members_read", {}};
}

std::vector<cluster_member> parse_members(const pg_rows& rows) {
  std::vector<cluster_member> out;
  for (auto& r : rows) {
    cluster_member m;
    m.node_id = r.at(0);
    m.incarnation = to_int(r.at(1));
    m.http_url = r.at(2);
    m.actor_host = r.at(3);
    m.actor_port = to_int(r.at(4));
    m.live = r.at(5) == "1";
    m.heartbeat_at = r.at(6);
    m.started_at = r.at(7);
    out.push_back(std::move(m));
  }
  return out;
}

pg_statement member_leave(const std::string& node_id, int64_t incarnation) {
  return {"member_leave", {node_id, str(incarnation)}};
}

pg_statement ledger_campaigns(int64_t advertiser_id, const std::string& today) {
  return {"ledger_campaigns", {str(advertiser_id), today}};
}

pg_statement all_balances() {
  return {"all_balances", {}};
}

pg_statement all_daily_spend(const std::string& today) {
  return {"all_daily_spend", {today}};
}

pg_statement product_create(const product_record& x, const principal& who) {
  return {"product_create", {x.product_id, x.product_name, x.category, str(x.price), who}};
}

pg_statement product_get(const std::string& product_id) {
  return {"product_get", {product_id}};
}

pg_statement campaign_create(const campaign_record& x, const principal& who) {
  return {"campaign_create",
          {str(x.advertiser_id), x.campaign_name, x.campaign_type, x.product_id,
           x.start_date, x.end_date, str(x.daily_budget), str(x.total_budget),
           nlohmann::json(x.categories).dump(), nlohmann::json(x.keywords).dump(), who,
           bids_json(x.bids), x.delivery}};
}

pg_statement campaign_set_delivery(int64_t id, const std::string& delivery,
                                   const principal& who) {
  return {"campaign_set_delivery", {str(id), delivery, who}};
}

pg_statement traffic_add(const std::string& placement, const std::string& date, int64_t hour,
                         int64_t requests) {
  return {"traffic_add", {placement, date, str(hour), str(requests)}};
}

pg_statement traffic_curves_read(const std::string& today) {
  return {"traffic_curves", {today}};
}

traffic_curves parse_traffic_curves(const pg_rows& rows, const std::string& today) {
  traffic_curves out;
  out.day = today;
  for (auto& row : rows) {
    auto hour = to_int(row.at(1));
    if (hour < 0 || hour > 23)
      continue;
    auto& curve = out.hourly[row.at(0)];
    curve.resize(24, 0);
    curve[static_cast<size_t>(hour)] += to_int(row.at(2));
  }
  return out;
}

pg_statement campaign_advertiser(int64_t id) {
  return {"campaign_advertiser", {str(id)}};
}

pg_statement campaign_load(int64_t id) {
  return {"campaign_load", {str(id)}};
}

pg_statement campaign_set_status(int64_t id, const std::string& status, const principal& who) {
  return {"campaign_set_status", {str(id), status, who}};
}

std::vector<pg_statement> campaign_replace_bids(int64_t id, const placement_bids& bids,
                                                const principal& who) {
  auto json = bids_json(bids);
  return {{"campaign_upsert_bids", {str(id), json, who}},
          {"campaign_drop_other_bids", {str(id), json, who}}};
}

pg_statement click_charge(const std::vector<click_write>& clicks, int64_t lease_epoch) {
  std::vector<std::string> campaign, amount, before, after, memo, day, ad, device, session,
    request, at, product, original, exp_key, exp_var;
  for (auto& c : clicks) {
    campaign.push_back(str(c.campaign_id));
    amount.push_back(str(c.amount));
    before.push_back(str(c.balance_before));
    after.push_back(str(c.balance_after));
    memo.push_back(c.memo);
    day.push_back(c.business_date);
    ad.push_back(c.ad_id);
    device.push_back(c.device_id);
    session.push_back(c.session_id);
    request.push_back(c.request_id);
    at.push_back(c.clicked_at);
    product.push_back(c.product_id);
    original.push_back(c.original_product_id);
    exp_key.push_back(c.exp_key);
    exp_var.push_back(c.exp_var);
  }
  auto& first = clicks.front();
  auto& last = clicks.back();
  return {"click_charge",
          {str(first.advertiser_id), str(first.expected_version), str(first.balance_before),
           str(last.balance_after), str(static_cast<int64_t>(clicks.size())),
           array_literal(campaign), array_literal(amount), array_literal(before),
           array_literal(after), array_literal(memo), array_literal(day), array_literal(ad),
           array_literal(device), array_literal(session), array_literal(request),
           array_literal(at), array_literal(product), array_literal(original),
           array_literal(exp_key), array_literal(exp_var), str(lease_epoch)}};
}

pg_statement pair_last_charge_age(const std::string& device_id, const std::string& ad_id,
                                  int64_t seconds) {
  return {"pair_last_charge_age", {device_id, ad_id, str(seconds)}};
}

pg_statement click_record(const click_write& c, const std::string& reason) {
  return {"click_record",
          {str(c.advertiser_id), str(c.campaign_id), c.ad_id, c.device_id, c.session_id,
           c.request_id, c.clicked_at, reason, c.product_id, c.original_product_id, c.exp_key,
           c.exp_var}};
}

pg_statement conversion_attribution(const std::string& device_id, int64_t window_hours,
                                    const std::vector<std::string>& product_ids) {
  return {"conversion_attribution", {device_id, str(window_hours), array_literal(product_ids)}};
}

pg_statement conversion_insert(const std::string& order_id, const std::string& product_id,
                               const std::string& device_id, const std::string& session_id,
                               const std::string& conversion_type, int64_t revenue,
                               int64_t campaign_id, const std::string& ad_id, int64_t click_id) {
  return {"conversion_insert",
          {order_id, product_id, device_id, session_id, conversion_type, str(revenue),
           str(campaign_id), ad_id, str(click_id)}};
}

pg_statement recent_charged_clicks(int64_t advertiser_id, int64_t seconds) {
  return {"recent_charged_clicks", {str(advertiser_id), str(seconds)}};
}

pg_statement auction_candidates(const std::string& placement, const std::string& today,
                                const std::string& search_term) {
  return {"auction_candidates", {placement, today, search_term}};
}

candidate parse_auction_row(const pg_row& row) {
  candidate x;
  x.campaign_id = to_int(row.at(0));
  x.advertiser_id = to_int(row.at(1));
  x.product_id = row.at(2);
  x.bid = to_int(row.at(3));
  x.daily_budget = to_int(row.at(4));
  x.total_budget = to_int(row.at(5));
  x.categories = string_array(row.at(6));
  x.keywords = string_array(row.at(7));
  x.balance = to_int(row.at(8));
  x.spent_today = to_int(row.at(9));
  x.spent_total = to_int(row.at(10));
  x.impressions = to_int(row.at(11));
  x.clicks = to_int(row.at(12));
  x.product_category = row.at(13);
  x.standard_delivery = row.at(14) == "STANDARD";
  x.bids_by_placement = parse_bids(row.at(15));
  return x;
}

pg_statement campaign_stats_add(int64_t campaign_id, int64_t impressions, int64_t clicks) {
  return {"campaign_stats_add", {str(campaign_id), str(impressions), str(clicks)}};
}

pg_statement experiment_create(const experiment_mapping& x, const principal& who) {
  return {"experiment_create",
          {x.exp_key, x.exp_var, x.original_product_id, x.experiment_product_id, x.start_date,
           x.end_date, who}};
}

pg_statement experiment_list(const std::string& exp_key) {
  return {"experiment_list", {exp_key}};
}

pg_statement targeting_all() {
  return {"targeting_all", {}};
}

void parse_targeting(const pg_row& row, std::vector<std::string>& keywords,
                     std::vector<std::string>& categories) {
  keywords = string_array(row.at(0));
  categories = string_array(row.at(1));
}

pg_statement experiments_in_use(const std::string& today) {
  return {"experiments_in_use", {today}};
}

pg_statement experiment_deactivate(int64_t id, const principal& who) {
  return {"experiment_deactivate", {str(id), who}};
}

experiment_mapping parse_experiment(const pg_row& row) {
  experiment_mapping x;
  x.id = to_int(row.at(0));
  x.exp_key = row.at(1);
  x.exp_var = row.at(2);
  x.original_product_id = row.at(3);
  x.experiment_product_id = row.at(4);
  x.start_date = row.at(5);
  x.end_date = row.at(6);
  x.audit = parse_audit(row, 7);
  return x;
}

pg_statement campaign_deactivate(int64_t id, const principal& who) {
  return {"campaign_deactivate", {str(id), who}};
}

pg_statement advertiser_page(int64_t after_id, const std::string& activation, int64_t limit) {
  return {"advertiser_page", {str(after_id), activation, str(limit)}};
}

pg_statement campaign_page(int64_t after_id, int64_t advertiser_id, const std::string& status,
                           int64_t limit) {
  return {"campaign_page", {str(after_id), str(advertiser_id), status, str(limit)}};
}

advertiser_record parse_advertiser(const pg_row& row) {
  advertiser_record x;
  x.id = to_int(row.at(0));
  x.advertiser_name = row.at(1);
  x.business_number = row.at(2);
  x.email = row.at(3);
  x.business_type = row.at(4);
  x.status = row.at(5);
  x.balance = to_int(row.at(6));
  x.audit = parse_audit(row, 7);
  return x;
}

int64_t parse_advertiser_version(const pg_row& row) {
  return to_int(row.at(12));
}

product_record parse_product(const pg_row& row) {
  product_record x;
  x.product_id = row.at(0);
  x.product_name = row.at(1);
  x.category = row.at(2);
  x.price = to_int(row.at(3));
  x.audit = parse_audit(row, 4);
  return x;
}

campaign_record parse_campaign(const pg_row& row) {
  campaign_record x;
  x.id = to_int(row.at(0));
  x.advertiser_id = to_int(row.at(1));
  x.campaign_name = row.at(2);
  x.campaign_type = row.at(3);
  x.product_id = row.at(4);
  x.status = row.at(5);
  x.start_date = row.at(6);
  x.end_date = row.at(7);
  x.daily_budget = to_int(row.at(8));
  x.total_budget = to_int(row.at(9));
  x.categories = string_array(row.at(10));
  x.keywords = string_array(row.at(11));
  // 18 columns: a row recorded before delivery existed (an idempotency
  // key's stored result replayed within its 24 h); such campaigns are
  // ACCELERATED (migration 010).
  size_t at = 12;
  if (row.size() >= 19)
    x.delivery = row.at(at++);
  else
    x.delivery = "ACCELERATED";
  x.audit = parse_audit(row, at);
  x.bids = parse_bids(row.at(at + 5));
  return x;
}

campaign_spend parse_campaign_spend(const pg_row& row, const std::string& today) {
  campaign_spend x;
  x.campaign_id = to_int(row.at(0));
  x.daily_budget = to_int(row.at(1));
  x.total_budget = to_int(row.at(2));
  x.spent_today = to_int(row.at(3));
  x.spent_total = to_int(row.at(4));
  x.max_bid = to_int(row.at(5));
  x.serving = row.at(6) == "ACTIVE";
  x.start_date = row.at(7);
  x.end_date = row.at(8);
  x.standard_delivery = row.at(9) == "STANDARD";
  x.day = today;
  return x;
}

pg_statement idempotency_lookup(const std::string& who, const std::string& key) {
  return {"idempotency_lookup", {who, key}};
}

pg_statement idempotency_expire() {
  return {"idempotency_expire", {}};
}

std::optional<balance_change_result> parse_balance_change(const pg_results& results) {
  if (results.empty() || results[0].empty() || results[0][0].size() < 4)
    return std::nullopt;
  auto& row = results[0][0];
  balance_change_result r;
  r.history_id = to_int(row[0]);
  r.advertiser_id = to_int(row[1]);
  r.balance_before = to_int(row[2]);
  r.balance_after = to_int(row[3]);
  return r;
}

}  // namespace adserver::storage
