#include "actors/events.hpp"

#include <nlohmann/json.hpp>

namespace adserver {

namespace {

nlohmann::json ad_event_fields(const std::string& type, const token_claims& ad,
                               const std::string& session_id, const std::string& timestamp) {
  nlohmann::json j = {{"event_type", type},
          {"timestamp", timestamp},
          {"device_id", ad.device_id},
          {"session_id", session_id},
          {"ad_id", ad.ad_id},
          {"campaign_id", ad.campaign_id},
          {"advertiser_id", ad.advertiser_id},
          {"product_id", ad.product_id},
          {"placement", ad.placement},
          {"bid_price", ad.bid},
          {"actual_price", ad.price},
          {"search_term", ad.search_term},
          {"category", ad.category},
          {"request_id", ad.request_id},
          {"original_product_id", ad.original_product_id}};
  // Exposure and clicks per experiment variant (control arms included).
  if (!ad.exp_key.empty()) {
    j["exp_key"] = ad.exp_key;
    j["exp_var"] = ad.exp_var;
  }
  return j;
}

}  // namespace

kafka_event impression_event(const token_claims& ad, const std::string& session_id,
                             const std::string& timestamp) {
  return {"ad-events", ad.device_id,
          ad_event_fields("IMPRESSION", ad, session_id, timestamp).dump()};
}

kafka_event click_event(const click_request& c, const click_result& r,
                        const std::string& timestamp) {
  auto j = ad_event_fields("CLICK", c.ad, c.session_id, timestamp);
  j["balance_deducted"] = r.charged;
  j["remaining_balance"] = r.remaining_balance;
  j["charged_amount"] = r.amount;
  if (!c.click_time.empty())
    j["click_time"] = c.click_time;  // the client's; timestamp is the server's
  if (!r.reason.empty())
    j["reason"] = r.reason;
  return {"ad-events", c.ad.device_id, j.dump()};
}

kafka_event conversion_event(const conversion_request& req, const conversion_line& line,
                             int64_t window, const std::string& timestamp) {
  nlohmann::json j = {{"timestamp", timestamp},
                      {"device_id", req.device_id},
                      {"session_id", req.session_id},
                      {"order_id", req.order_id},
                      {"product_id", line.product_id},
                      {"revenue_amount", line.revenue_amount},
                      {"conversion_type", req.conversion_type},
                      {"attribution_window", window},
                      {"referrer_url", req.referrer_url},
                      {"attributed", line.campaign_id != 0},
                      {"campaign_id", line.campaign_id},
                      {"ad_id", line.ad_id}};
  if (!line.exp_key.empty()) {
    j["exp_key"] = line.exp_key;
    j["exp_var"] = line.exp_var;
  }
  return {"conversion-events", req.device_id, j.dump()};
}

namespace {

dashboard_event ad_dashboard_event(const char* kind, const token_claims& ad, int64_t at_ms) {
  dashboard_event e;
  e.campaign_id = ad.campaign_id;
  e.kind = kind;
  e.user_id = ad.device_id;
  e.at_ms = at_ms;
  e.request_id = ad.request_id;
  e.ad_id = ad.ad_id;
  e.product_id = ad.original_product_id;
  e.exp_key = ad.exp_key;
  e.exp_var = ad.exp_var;
  return e;
}

}  // namespace

dashboard_event impression_dashboard_event(const token_claims& ad, int64_t at_ms) {
  return ad_dashboard_event("IMPRESSION", ad, at_ms);
}

dashboard_event click_dashboard_event(const click_request& click, const click_result& result,
                                      int64_t at_ms) {
  auto e = ad_dashboard_event("CLICK", click.ad, at_ms);
  e.charged = result.charged;
  e.amount = result.charged ? result.amount : 0;
  e.reason = result.reason;
  return e;
}

dashboard_event conversion_dashboard_event(const conversion_request& req,
                                           const conversion_line& line, int64_t at_ms) {
  dashboard_event e;
  e.campaign_id = line.campaign_id;
  e.kind = "CONVERSION";
  e.user_id = req.device_id;
  e.at_ms = at_ms;
  e.ad_id = line.ad_id;
  e.product_id = line.product_id;
  e.order_id = req.order_id;
  e.revenue = line.revenue_amount;
  e.exp_key = line.exp_key;
  e.exp_var = line.exp_var;
  return e;
}

}  // namespace adserver
