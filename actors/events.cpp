#include "actors/events.hpp"

#include "actors/validation.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace adserver {

namespace {

/// One flat JSON object built field by field: every impression and click
/// writes one, so no document tree is built for it.
class flat_object {
public:
  flat_object() { out_.reserve(512); }
  // `key` is a literal of ours: it needs no escaping.
  void text(const char* key, const std::string& v) {
    open(key);
    append_json_string(out_, v);
  }
  void number(const char* key, int64_t v) {
    open(key);
    char digits[24];
    out_.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
  }
  void boolean(const char* key, bool v) {
    open(key);
    out_ += v ? "true" : "false";
  }
  std::string close() {
    out_ += '}';
    return std::move(out_);
  }

private:
  void open(const char* key) {
    out_ += out_.empty() ? "{\"" : ",\"";
    out_ += key;
    out_ += "\":";
  }
  std::string out_;
};

/// The fields every ad event has (seed 000), in its order.
void ad_event_fields(flat_object& j, const char* type, const token_claims& ad,
                     const std::string& session_id, const std::string& timestamp) {
  j.text("event_type", type);
  j.text("timestamp", timestamp);
  j.text("device_id", ad.device_id);
  j.text("session_id", session_id);
  j.text("ad_id", ad.ad_id);
  j.number("campaign_id", ad.campaign_id);
  j.number("advertiser_id", ad.advertiser_id);
  j.text("product_id", ad.product_id);
  j.text("placement", ad.placement);
  j.number("bid_price", ad.bid);
  j.number("actual_price", ad.price);
  j.text("search_term", ad.search_term);
  j.text("category", ad.category);
  j.text("request_id", ad.request_id);
  j.text("original_product_id", ad.original_product_id);
  // Exposure and clicks per experiment variant (control arms included).
  if (!ad.exp_key.empty()) {
    j.text("exp_key", ad.exp_key);
    j.text("exp_var", ad.exp_var);
  }
}

}  // namespace

kafka_event impression_event(const token_claims& ad, const std::string& session_id,
                             const std::string& timestamp) {
  flat_object j;
  ad_event_fields(j, "IMPRESSION", ad, session_id, timestamp);
  return {"ad-events", ad.device_id, j.close()};
}

kafka_event click_event(const click_request& c, const click_result& r,
                        const std::string& timestamp) {
  flat_object j;
  ad_event_fields(j, "CLICK", c.ad, c.session_id, timestamp);
  j.boolean("balance_deducted", r.charged);
  j.number("remaining_balance", r.remaining_balance);
  j.number("charged_amount", r.amount);
  if (!c.click_time.empty())
    j.text("click_time", c.click_time);  // the client's; timestamp is the server's
  if (!r.reason.empty())
    j.text("reason", r.reason);
  return {"ad-events", c.ad.device_id, j.close()};
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
