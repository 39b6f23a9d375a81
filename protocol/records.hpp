#pragma once
// Records that travel in actor messages. Each has an inspect() so CAF can
// serialize it (remote actors) and render it (logging).
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace adserver {

/// Who made a change; fills created_user_id / updated_user_id.
using principal = std::string;

/// When the work of a request stops being wanted: Unix milliseconds (system
/// clock, so it means the same on every node); 0 = none (internal work). The
/// HTTP layer answers 503 at its own deadline, a margin later; an actor that
/// picks up work past this one drops it with no effect, so nothing a client
/// was told failed or timed out is applied afterwards.
struct deadline {
  int64_t at_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deadline& x) {
  return f(caf::meta::type_name("deadline"), x.at_ms);
}

/// An admin change made under an Idempotency-Key: the key is stored in the
/// same transaction as the change, with the change's result rows.
struct idempotency_ticket {
  std::string principal;
  std::string key;           // empty: no key given
  std::string request_hash;  // method, path and body
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idempotency_ticket& x) {
  return f(caf::meta::type_name("idempotency_ticket"), x.principal, x.key, x.request_hash);
}

/// Everything a state owner needs to know about the request behind a change.
struct request_meta {
  principal who;
  deadline due;
  idempotency_ticket ticket;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_meta& x) {
  return f(caf::meta::type_name("request_meta"), x.who, x.due, x.ticket);
}

struct audit_fields {
  bool activated = true;
  std::string created_at;
  std::string updated_at;
  std::string created_user_id;
  std::string updated_user_id;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_fields& x) {
  return f(caf::meta::type_name("audit_fields"), x.activated, x.created_at,
           x.updated_at, x.created_user_id, x.updated_user_id);
}

struct advertiser_spec {
  std::string advertiser_name;
  std::string business_number;
  std::string email;
  std::string business_type;
  int64_t initial_balance = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, advertiser_spec& x) {
  return f(caf::meta::type_name("advertiser_spec"), x.advertiser_name,
           x.business_number, x.email, x.business_type, x.initial_balance);
}

struct advertiser_record {
  int64_t id = 0;
  std::string advertiser_name;
  std::string business_number;
  std::string email;
  std::string business_type;
  std::string status;
  int64_t balance = 0;
  audit_fields audit;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, advertiser_record& x) {
  return f(caf::meta::type_name("advertiser_record"), x.id, x.advertiser_name,
           x.business_number, x.email, x.business_type, x.status, x.balance,
           x.audit);
}

struct balance_change {
  std::string action;  // "charge" | "deduct"
  int64_t amount = 0;
  std::string memo;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance_change& x) {
  return f(caf::meta::type_name("balance_change"), x.action, x.amount, x.memo);
}

struct balance_change_result {
  int64_t advertiser_id = 0;
  int64_t balance_before = 0;
  int64_t balance_after = 0;
  int64_t history_id = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance_change_result& x) {
  return f(caf::meta::type_name("balance_change_result"), x.advertiser_id,
           x.balance_before, x.balance_after, x.history_id);
}

/// A campaign's budgets and spend as the ledger (their single writer) knows them.
struct campaign_spend {
  int64_t campaign_id = 0;
  int64_t daily_budget = 0;
  int64_t total_budget = 0;
  int64_t spent_today = 0;
  int64_t spent_total = 0;
  std::string day;  // business date spent_today belongs to, YYYY-MM-DD
  /// Highest bid over its placements: the expected cost of its ads never
  /// exceeds it, so money below it is when auctions must hear of changes.
  int64_t max_bid = 0;
  /// Status ACTIVE and not deleted: only then is a click on it charged.
  bool serving = true;
  std::string start_date;  // YYYY-MM-DD; a click outside the dates is not charged
  std::string end_date;
  /// Delivery STANDARD: auctions pace it by its spend, so they hear of it
  /// at every percent of the daily budget spent.
  bool standard_delivery = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, campaign_spend& x) {
  return f(caf::meta::type_name("campaign_spend"), x.campaign_id, x.daily_budget,
           x.total_budget, x.spent_today, x.spent_total, x.day, x.max_bid, x.serving,
           x.start_date, x.end_date, x.standard_delivery);
}

/// An advertiser's money as its ledger knows it after a change: auctions
/// re-rank on it in memory (no database read).
struct advertiser_money {
  int64_t advertiser_id = 0;
  int64_t balance = 0;
  bool active = true;
  std::vector<campaign_spend> campaigns;  // rolled to today
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, advertiser_money& x) {
  return f(caf::meta::type_name("advertiser_money"), x.advertiser_id, x.balance, x.active,
           x.campaigns);
}

struct balance_view {
  int64_t advertiser_id = 0;
  int64_t balance = 0;
  std::vector<campaign_spend> campaigns;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance_view& x) {
  return f(caf::meta::type_name("balance_view"), x.advertiser_id, x.balance,
           x.campaigns);
}

struct product_record {
  std::string product_id;
  std::string product_name;
  std::string category;
  int64_t price = 0;
  audit_fields audit;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, product_record& x) {
  return f(caf::meta::type_name("product_record"), x.product_id, x.product_name,
           x.category, x.price, x.audit);
}

/// Bids per placement (HOME, CATEGORY, SEARCH, PRODUCT_DETAIL), in won.
using placement_bids = std::map<std::string, int64_t>;

struct campaign_record {
  int64_t id = 0;
  int64_t advertiser_id = 0;
  std::string campaign_name;
  std::string campaign_type = "CPC";
  std::string product_id;
  std::string start_date;
  std::string end_date;
  std::string status;
  int64_t daily_budget = 0;
  int64_t total_budget = 0;
  std::vector<std::string> categories;
  std::vector<std::string> keywords;
  placement_bids bids;
  /// STANDARD: the daily budget is paced over the business day;
  /// ACCELERATED: served whenever eligible (actors/pacing.hpp).
  std::string delivery = "STANDARD";
  audit_fields audit;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, campaign_record& x) {
  return f(caf::meta::type_name("campaign_record"), x.id, x.advertiser_id,
           x.campaign_name, x.campaign_type, x.product_id, x.start_date,
           x.end_date, x.status, x.daily_budget, x.total_budget, x.categories,
           x.keywords, x.bids, x.delivery, x.audit);
}

/// Ad requests per business hour (24 counts, hour 0 first) of each placement
/// over the 7 business days before `day`: the traffic STANDARD pacing
/// spreads a daily budget over. An empty map: no history (uniform).
struct traffic_curves {
  std::string day;
  std::map<std::string, std::vector<int64_t>> hourly;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, traffic_curves& x) {
  return f(caf::meta::type_name("traffic_curves"), x.day, x.hourly);
}

struct budget_view {
  int64_t campaign_id = 0;
  int64_t daily_budget = 0;
  int64_t spent_today = 0;
  int64_t remaining_today = 0;
  int64_t total_budget = 0;
  int64_t spent_total = 0;
  int64_t remaining_total = 0;
  std::string delivery;
  /// What the campaign may have spent by now under its delivery (STANDARD:
  /// the day's budget times the expected share of traffic passed, plus the
  /// allowance; ACCELERATED: the daily budget).
  int64_t pacing_target_today = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_view& x) {
  return f(caf::meta::type_name("budget_view"), x.campaign_id, x.daily_budget,
           x.spent_today, x.remaining_today, x.total_budget, x.spent_total,
           x.remaining_total, x.delivery, x.pacing_target_today);
}

/// A named prepared statement (storage/statements.cpp) and its text parameters.
struct pg_statement {
  std::string name;
  std::vector<std::string> params;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pg_statement& x) {
  return f(caf::meta::type_name("pg_statement"), x.name, x.params);
}
using pg_row = std::vector<std::string>;
using pg_rows = std::vector<pg_row>;
/// Results of a unit of statements, one pg_rows per statement.
using pg_results = std::vector<pg_rows>;

/// One event for the outbound log.
struct kafka_event {
  std::string topic;
  std::string key;
  std::string payload;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kafka_event& x) {
  return f(caf::meta::type_name("kafka_event"), x.topic, x.key, x.payload);
}

/// What an auction needs of an ad request (validated and normalized in net/).
struct ad_request {
  std::string request_id;
  std::string device_id;
  std::string session_id;
  std::string placement;
  std::string search_term;  // normalized; SEARCH only
  std::string category;     // CATEGORY only
  int64_t max_ads = 3;
  std::string exp_key;  // price experiment (both or neither)
  std::string exp_var;
  deadline due;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ad_request& x) {
  return f(caf::meta::type_name("ad_request"), x.request_id, x.device_id, x.session_id,
           x.placement, x.search_term, x.category, x.max_ads, x.exp_key, x.exp_var, x.due);
}

/// What a tracking token carries (actors/tracking_token.hpp signs it).
struct token_claims {
  std::string request_id;
  std::string ad_id;
  int64_t campaign_id = 0;
  int64_t advertiser_id = 0;
  std::string product_id;           // as served (experiment code where mapped)
  std::string original_product_id;
  int64_t price = 0;                // won charged per click (auction price)
  int64_t bid = 0;
  std::string device_id;
  std::string session_id;
  std::string placement;
  std::string search_term;
  std::string category;
  int64_t expires_at = 0;           // unix seconds
  std::string exp_key;  // the request's experiment assignment (A/B analysis), or empty
  std::string exp_var;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_claims& x) {
  return f(caf::meta::type_name("token_claims"), x.request_id, x.ad_id, x.campaign_id,
           x.advertiser_id, x.product_id, x.original_product_id, x.price, x.bid, x.device_id,
           x.session_id, x.placement, x.search_term, x.category, x.expires_at, x.exp_key,
           x.exp_var);
}

/// A click on a served ad: its verified token's claims and the session the
/// click came from (the token's own where the request names none).
struct click_request {
  token_claims ad;
  std::string session_id;
  std::string click_time;  // as the client reported it (ISO 8601), or empty
  deadline due;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, click_request& x) {
  return f(caf::meta::type_name("click_request"), x.ad, x.session_id, x.click_time, x.due);
}

/// An auction's answer before signing: the request and one claim per ad, in
/// rank order. The session-experiment step swaps product codes in it.
struct slate {
  ad_request request;
  std::vector<token_claims> ads;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slate& x) {
  return f(caf::meta::type_name("slate"), x.request, x.ads);
}

/// One served ad with its signed tracking token.
struct served_ad {
  std::string product_id;
  std::string original_product_id;
  std::string ad_id;
  int64_t campaign_id = 0;
  int64_t rank = 0;
  bool experiment_applied = false;
  std::string token;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, served_ad& x) {
  return f(caf::meta::type_name("served_ad"), x.product_id, x.original_product_id, x.ad_id,
           x.campaign_id, x.rank, x.experiment_applied, x.token);
}
using served_ads = std::vector<served_ad>;

struct click_result {
  bool charged = false;
  int64_t amount = 0;
  int64_t remaining_balance = 0;
  // DUPLICATE_CLICK | INSUFFICIENT_BALANCE | BUDGET_EXHAUSTED | CAMPAIGN_INACTIVE
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, click_result& x) {
  return f(caf::meta::type_name("click_result"), x.charged, x.amount, x.remaining_balance,
           x.reason);
}

struct conversion_item {
  std::string product_id;
  int64_t revenue_amount = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversion_item& x) {
  return f(caf::meta::type_name("conversion_item"), x.product_id, x.revenue_amount);
}

struct conversion_request {
  std::string device_id;
  std::string session_id;
  std::string order_id;
  std::string conversion_type;  // PURCHASE | ADD_TO_CART | SIGNUP
  std::string referrer_url;
  std::vector<conversion_item> products;
  deadline due;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversion_request& x) {
  return f(caf::meta::type_name("conversion_request"), x.device_id, x.session_id, x.order_id,
           x.conversion_type, x.referrer_url, x.products, x.due);
}

/// One product of a conversion after attribution.
struct conversion_line {
  std::string product_id;  // original code
  int64_t revenue_amount = 0;
  int64_t campaign_id = 0;  // 0: no click within the window
  std::string ad_id;
  bool counted = false;  // false: this order and product were counted before
  std::string exp_key;   // the attributed click's experiment assignment, or empty
  std::string exp_var;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversion_line& x) {
  return f(caf::meta::type_name("conversion_line"), x.product_id, x.revenue_amount,
           x.campaign_id, x.ad_id, x.counted, x.exp_key, x.exp_var);
}
using conversion_lines = std::vector<conversion_line>;

struct experiment_mapping {
  int64_t id = 0;
  std::string exp_key;
  std::string exp_var;
  std::string original_product_id;
  std::string experiment_product_id;
  std::string start_date;
  std::string end_date;
  audit_fields audit;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, experiment_mapping& x) {
  return f(caf::meta::type_name("experiment_mapping"), x.id, x.exp_key, x.exp_var,
           x.original_product_id, x.experiment_product_id, x.start_date, x.end_date, x.audit);
}
using experiment_mappings = std::vector<experiment_mapping>;

/// What a session was served under experiments: assignment and, per served
/// experiment product code, its original (seed: experiment:mapping:{session_id}).
struct session_mapping {
  std::string session_id;
  std::string exp_key;
  std::string exp_var;
  std::map<std::string, std::string> codes;  // experiment code -> original code
  int64_t expires_at = 0;                    // unix seconds (24 h after the last change)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_mapping& x) {
  return f(caf::meta::type_name("session_mapping"), x.session_id, x.exp_key, x.exp_var,
           x.codes, x.expires_at);
}

/// What a dashboard window hears of: an impression, a click (charged or not,
/// with its reason) or an attributed conversion line.
struct dashboard_event {
  int64_t campaign_id = 0;
  std::string kind;     // IMPRESSION | CLICK | CONVERSION
  std::string user_id;  // device_id
  int64_t at_ms = 0;    // Unix ms
  bool charged = false;
  int64_t amount = 0;   // won charged (clicks)
  std::string reason;   // unbilled click's reason
  int64_t revenue = 0;  // won (conversions)
  std::string request_id;
  std::string ad_id;
  std::string product_id;
  std::string order_id;
  std::string exp_key;
  std::string exp_var;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dashboard_event& x) {
  return f(caf::meta::type_name("dashboard_event"), x.campaign_id, x.kind, x.user_id, x.at_ms,
           x.charged, x.amount, x.reason, x.revenue, x.request_id, x.ad_id, x.product_id,
           x.order_id, x.exp_key, x.exp_var);
}

/// A campaign's alert thresholds (PUT /admin/v1/campaigns/{id}/alerts); a
/// negative or zero threshold switches its rule off.
struct alert_rules {
  int64_t campaign_id = 0;
  int64_t spend_per_hour_above = -1;  // won
  double ctr_below = -1;              // ratio, 0..1
  int64_t ctr_min_impressions = 100;  // CTR is judged from this many impressions
  int64_t no_impressions_minutes = 0;
  bool anomaly_detection = false;     // hourly clicks beyond 3 sigma of the same hour, 7 days
  bool any() const {
    return spend_per_hour_above > 0 || ctr_below > 0 || no_impressions_minutes > 0
           || anomaly_detection;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_rules& x) {
  return f(caf::meta::type_name("alert_rules"), x.campaign_id, x.spend_per_hour_above,
           x.ctr_below, x.ctr_min_impressions, x.no_impressions_minutes, x.anomaly_detection);
}

/// An SSE client following a Redis Stream (storage/stream_reader): entries
/// after `after_id` go to `deliver(id, type, data)`; `gone()` true (or a
/// false from deliver) ends the subscription. Local only (holds functions).
struct stream_subscriber {
  std::string key;
  std::string after_id;  // "" = only entries added from now on
  std::function<bool(const std::string&, const std::string&, const std::string&)> deliver;
  std::function<bool()> gone;
};

/// The answer every actor kind gives to `status`: small and JSON-able.
struct status_record {
  std::string kind;
  std::string key;
  std::map<std::string, int64_t> figures;
  std::map<std::string, std::string> info;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_record& x) {
  return f(caf::meta::type_name("status_record"), x.kind, x.key, x.figures,
           x.info);
}

/// A node of the cluster as cluster_members lists it.
struct cluster_member {
  std::string node_id;      // node.name
  int64_t incarnation = 0;  // the process: its start, Unix ms
  std::string http_url;
  std::string actor_host;
  int64_t actor_port = 0;   // 0: takes no peers
  bool live = false;        // its membership has not expired (database clock)
  std::string heartbeat_at; // ISO 8601, UTC
  std::string started_at;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member& x) {
  return f(caf::meta::type_name("cluster_member"), x.node_id, x.incarnation, x.http_url,
           x.actor_host, x.actor_port, x.live, x.heartbeat_at, x.started_at);
}

/// An HTTP request a node received for an entity another node owns, as it
/// crosses to the owner over the middleman (net/cluster_gateway.hpp).
struct forwarded_request {
  std::string method;
  std::string path;
  std::vector<std::string> query_names;   // decoded, aligned with query_values
  std::vector<std::string> query_values;
  std::vector<std::string> header_names;  // lower case, aligned with header_values
  std::vector<std::string> header_values;
  std::string body;
  std::string client_address;
  // Both the instants (the sender's clock) and the time left at sending: the
  // owner takes the earlier, so neither a clock ahead nor a message held up
  // on the way (a paused owner) gives a request more time than it had.
  int64_t deadline_ms = 0;      // 0: none
  int64_t answer_by_ms = 0;
  int64_t deadline_in_ms = 0;
  int64_t answer_in_ms = 0;
  std::string request_id;
  std::string from_node;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_request& x) {
  return f(caf::meta::type_name("forwarded_request"), x.method, x.path, x.query_names,
           x.query_values, x.header_names, x.header_values, x.body, x.client_address,
           x.deadline_ms, x.answer_by_ms, x.deadline_in_ms, x.answer_in_ms, x.request_id,
           x.from_node);
}

/// The owner's answer to a forwarded request.
struct forwarded_reply {
  int64_t status = 200;
  std::string body;
  std::string content_type;
  std::vector<std::string> header_names;
  std::vector<std::string> header_values;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_reply& x) {
  return f(caf::meta::type_name("forwarded_reply"), x.status, x.body, x.content_type,
           x.header_names, x.header_values);
}

/// A ledger's money as it holds it, for reconciliation: the balance view,
/// and writes not yet committed (memory is ahead of PostgreSQL by them).
struct ledger_money_view {
  balance_view view;
  int64_t version = 0;
  int64_t inflight = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ledger_money_view& x) {
  return f(caf::meta::type_name("ledger_money_view"), x.view, x.version, x.inflight);
}

/// One ranked ad of an auction, as the inspection endpoint shows it.
struct auction_line {
  int64_t rank = 0;
  int64_t campaign_id = 0;
  int64_t advertiser_id = 0;
  std::string product_id;
  int64_t bid = 0;
  double pctr = 0;
  double score = 0;
  int64_t price = 0;
  int64_t impressions = 0;
  int64_t clicks = 0;
  double baseline_ctr = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auction_line& x) {
  return f(caf::meta::type_name("auction_line"), x.rank, x.campaign_id, x.advertiser_id,
           x.product_id, x.bid, x.pctr, x.score, x.price, x.impressions, x.clicks,
           x.baseline_ctr);
}

/// An auction's ranked list (every eligible ad, in order) and its status.
struct auction_view {
  std::string key;
  std::string loaded_day;
  int64_t candidates = 0;  // targeted, eligible or not
  std::vector<auction_line> ranked;
  status_record status;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auction_view& x) {
  return f(caf::meta::type_name("auction_view"), x.key, x.loaded_day, x.candidates, x.ranked,
           x.status);
}

/// A session's experiment codes as its shard holds them.
struct session_view {
  int64_t shard = 0;
  bool found = false;
  session_mapping mapping;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_view& x) {
  return f(caf::meta::type_name("session_view"), x.shard, x.found, x.mapping);
}

}  // namespace adserver

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(adserver::stream_subscriber)
