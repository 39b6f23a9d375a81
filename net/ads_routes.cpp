// Ad serving and tracking (public, token-checked): JSON -> actor message -> JSON.
#include "actors/auction_routes.hpp"
#include "actors/events.hpp"
#include "actors/tracking_token.hpp"
#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "net/body_fields.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "protocol/telemetry.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <random>

namespace adserver::net {

using nlohmann::json;

namespace {

/// A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random.
/// Time-ordered, so the unique index of charged tokens (request_id, ad_id)
/// grows at its right edge: a click touches the recent part of the index,
/// not a random page of all its history.
std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  auto a = rng();
  auto b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-7%03x-%04x-%012llx",
                static_cast<unsigned>((ms >> 16) & 0xffffffff), static_cast<unsigned>(ms & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

/// The ad request's fields; one reader per thread keeps its buffers.
caf::error decode(const std::string& body, ad_request& out) {
  thread_local body_fields j{"device_id", "session_id", "placement", "search_term",
                             "category",  "exp_key",    "exp_var",   "max_ads"};
  if (auto e = j.parse(body))
    return e;
  if (auto e = j.read_string("device_id", true, out.device_id))
    return e;
  if (auto e = j.read_string("session_id", true, out.session_id))
    return e;
  if (auto e = j.read_string("placement", true, out.placement))
    return e;
  if (auto e = j.read_string("search_term", false, out.search_term))
    return e;
  if (auto e = j.read_string("category", false, out.category))
    return e;
  if (auto e = j.read_string("exp_key", false, out.exp_key))
    return e;
  if (auto e = j.read_string("exp_var", false, out.exp_var))
    return e;
  return j.read_int("max_ads", false, out.max_ads);
}

/// An answered ad request in the node's match and experiment figures.
void count_request(const served_ads& ads) {
  auto& t = telemetry();
  t.ad_requests.fetch_add(1, std::memory_order_relaxed);
  if (ads.empty())
    return;
  t.ad_requests_matched.fetch_add(1, std::memory_order_relaxed);
  for (auto& ad : ads)
    if (ad.experiment_applied) {
      t.ad_requests_experiment.fetch_add(1, std::memory_order_relaxed);
      break;
    }
}

/// The ad request's answer, built without a DOM (it is the hottest reply).
http_reply ads_reply(const std::string& request_id, const served_ads& ads) {
  http_reply r;
  auto& b = r.body;
  b.reserve(128 + ads.size() * 640);
  b += "{\"request_id\":";
  append_json_string(b, request_id);
  b += ",\"ads\":[";
  for (size_t i = 0; i < ads.size(); ++i) {
    auto& x = ads[i];
    b += i ? ",{\"product_id\":" : "{\"product_id\":";
    append_json_string(b, x.product_id);
    b += ",\"original_product_id\":";
    append_json_string(b, x.original_product_id);
    b += ",\"ad_id\":";
    append_json_string(b, x.ad_id);
    b += ",\"campaign_id\":" + std::to_string(x.campaign_id);
    b += ",\"rank\":" + std::to_string(x.rank);
    b += x.experiment_applied ? ",\"experiment_applied\":true" : ",\"experiment_applied\":false";
    b += ",\"token\":";
    append_json_string(b, x.token);
    b += '}';
  }
  b += "]}";
  return r;
}


/// Applies the per-address and per-device limits; answers 429 and returns
/// false when over.
bool within_limits(const app_context& app, const route_context& ctx, const std::string& device,
                   const respond_fn& respond) {
  int retry = 1;
  auto& t = telemetry();
  if (!app.address_limit->allow(ctx.request.client_address, retry))
    t.rate_limited_address.fetch_add(1, std::memory_order_relaxed);
  else if (!device.empty() && !app.device_limit->allow(device, retry))
    t.rate_limited_device.fetch_add(1, std::memory_order_relaxed);
  else
    return true;
  auto reply = error_reply(make_error(ec::rate_limited, "too many requests; slow down",
                                      "{\"retry_after_seconds\":" + std::to_string(retry) + "}"));
  reply.headers.emplace_back("Retry-After", std::to_string(retry));
  respond(std::move(reply));
  return false;
}

/// While the event log cannot keep more events (spool full), tracking calls
/// are refused, not accepted and lost: answers 503 and returns true.
bool event_log_full(const app_context& app, const respond_fn& respond) {
  if (!app.event_log || !app.event_log->spool_full.load(std::memory_order_relaxed))
    return false;
  auto reply = error_reply(503, "UNAVAILABLE", "the event log is full; retry later");
  reply.headers.emplace_back("Retry-After", "5");
  respond(std::move(reply));
  return true;
}

/// Reads {token, device_id, session_id?} (and, where `click_time` is given,
/// an optional ISO 8601 click_time) and verifies the token was issued to that
/// device; on failure answers and returns false.
bool read_tracking(const app_context& app, const route_context& ctx, const respond_fn& respond,
                   token_claims& claims, std::string& session_id,
                   std::string* click_time = nullptr) {
  thread_local body_fields j{"token", "device_id", "session_id", "click_time"};
  std::string token, device_id;
  caf::error err = j.parse(ctx.request.body);
  if (!err)
    err = j.read_string("token", true, token);
  if (!err)
    err = j.read_string("device_id", true, device_id);
  // Validated before it keys the rate limiter: only UUIDs become buckets.
  if (!err && !is_uuid(device_id))
    err = validation_error("device_id", "device_id must be a 36-character UUID");
  if (!err)
    err = j.read_string("session_id", false, session_id);
  if (!err)
    err = check_session_id(session_id);
  if (!err && click_time) {
    err = j.read_string("click_time", false, *click_time);
    if (!err && !click_time->empty() && !is_iso8601_timestamp(*click_time))
      err = validation_error("click_time",
                             "click_time must be ISO 8601 with a zone, e.g. 2026-11-24T10:30:00+09:00");
  }
  if (err) {
    respond(error_reply(err));
    return false;
  }
  if (!within_limits(app, ctx, device_id, respond))
    return false;
  auto verified = verify_token(token, app.config->hmac_secret, epoch_seconds());
  if (!verified) {
    respond(error_reply(verified.error()));
    return false;
  }
  if (verified->device_id != device_id) {
    respond(error_reply(make_error(ec::invalid_token, "the token was issued to another device")));
    return false;
  }
  claims = std::move(*verified);
  if (session_id.empty())
    session_id = claims.session_id;
  return true;
}

}  // namespace

void add_ads_routes(router& r, const app_context& app) {
  r.add("POST", "/api/v1/ads/request", false, [app](route_context& ctx, respond_fn respond) {
    ad_request req;
    if (auto err = decode(ctx.request.body, req))
      return respond(error_reply(err));
    if (auto err = check_ad_request(req))
      return respond(error_reply(err));
    if (!within_limits(app, ctx, req.device_id, respond))
      return;
    // The traffic budget pacing learns its hourly curve from.
    if (auto p = placement_index(req.placement); p >= 0)
      telemetry().ad_requests_by_placement[static_cast<size_t>(p)].fetch_add(
        1, std::memory_order_relaxed);
    req.request_id = new_request_id();
    req.due = deadline{ctx.request.deadline_ms};
    // Answered on the auction's thread (or its session's shard): the request
    // crosses to one actor and back, with no bridge or directory between.
    serve_reply reply{[respond, id = req.request_id](served_ads&& ads, const caf::error& err) {
      if (err)
        return respond(error_reply(err));
      count_request(ads);
      respond(ads_reply(id, ads));
    }};
    auto routed = app.running_auctions ? app.running_auctions->serve(req, reply)
                                       : auction_routes::outcome::not_running;
    if (routed == auction_routes::outcome::unmatched)
      reply(served_ads{});
    else if (routed == auction_routes::outcome::not_running)
      caf::anon_send(app.auction_router, serve_atom::value, std::move(req), std::move(reply));
  });

  r.add("POST", "/api/v1/ads/impression", false, [app](route_context& ctx, respond_fn respond) {
    if (event_log_full(app, respond))
      return;
    token_claims claims;
    std::string session_id;
    if (!read_tracking(app, ctx, respond, claims, session_id))
      return;
    // Counted and published once per token by the campaign's actor.
    caf::anon_send(app.directory, impression_atom::value, claims, session_id);
    respond(json_reply(200, {{"recorded", true},
                             {"event_type", "IMPRESSION"},
                             {"ad_id", claims.ad_id},
                             {"request_id", claims.request_id}}));
  });

  r.add("POST", "/api/v1/ads/conversion", false, [app](route_context& ctx, respond_fn respond) {
    if (event_log_full(app, respond))
      return;
    json j;
    conversion_request req;
    caf::error err = parse_object(ctx.request.body, j);
    if (!err)
      err = read_string(j, "device_id", true, req.device_id);
    if (!err && !is_uuid(req.device_id))
      err = validation_error("device_id", "device_id must be a 36-character UUID");
    if (!err)
      err = read_string(j, "session_id", true, req.session_id);
    if (!err)
      err = check_session_id(req.session_id);
    if (!err)
      err = read_string(j, "order_id", true, req.order_id);
    if (!err && req.order_id.size() > 200)
      err = validation_error("order_id", "order_id is longer than 200 characters");
    if (!err)
      err = read_string(j, "conversion_type", true, req.conversion_type);
    if (!err && req.conversion_type != "PURCHASE" && req.conversion_type != "ADD_TO_CART"
        && req.conversion_type != "SIGNUP")
      err = validation_error("conversion_type",
                             "conversion_type must be PURCHASE, ADD_TO_CART or SIGNUP");
    if (!err)
      err = read_string(j, "referrer_url", false, req.referrer_url);
    if (!err && req.referrer_url.size() > 2048)
      err = validation_error("referrer_url", "referrer_url is longer than 2048 characters");
    if (err)
      return respond(error_reply(err));
    if (!within_limits(app, ctx, req.device_id, respond))
      return;
    auto products = j.find("products");
    if (products == j.end() || !products->is_array() || products->empty()
        || products->size() > 100)
      return respond(error_reply(
        validation_error("products", "products must be an array of 1-100 {product_id, revenue_amount}")));
    for (auto& p : *products) {
      conversion_item item;
      if (!p.is_object())
        return respond(error_reply(validation_error("products", "each product must be an object")));
      if (auto e = read_string(p, "product_id", true, item.product_id);
          e || item.product_id.empty() || item.product_id.size() > 100)
        return respond(error_reply(validation_error(
          "products.product_id", "product_id is required, at most 100 characters")));
      if (auto e = read_int(p, "revenue_amount", true, item.revenue_amount);
          e || item.revenue_amount <= 0 || item.revenue_amount > max_money)
        return respond(error_reply(validation_error(
          "products.revenue_amount", "revenue_amount must be a positive integer (won)")));
      req.products.push_back(std::move(item));
    }
    req.due = deadline{ctx.request.deadline_ms};
    ask<conversion_lines>(
      app, app.conversions, respond,
      [order = req.order_id](const conversion_lines& lines) {
        json list = json::array();
        for (auto& l : lines) {
          json x = {{"product_id", l.product_id},
                    {"revenue_amount", l.revenue_amount},
                    {"attributed", l.campaign_id != 0},
                    {"counted", l.counted}};
          if (l.campaign_id != 0) {
            x["campaign_id"] = l.campaign_id;
            x["ad_id"] = l.ad_id;
          }
          list.push_back(x);
        }
        return json_reply(200, {{"recorded", true}, {"order_id", order}, {"products", list}});
      },
      convert_atom::value, req);
  });

  r.add("POST", "/api/v1/ads/click", false, [app](route_context& ctx, respond_fn respond) {
    if (event_log_full(app, respond))
      return;
    token_claims c;
    std::string session_id, click_time;
    if (!read_tracking(app, ctx, respond, c, session_id, &click_time))
      return;
    click_request click{c, session_id, click_time, deadline{ctx.request.deadline_ms}};
    // The directory delegates to the ledger, which answers once the charge
    // has committed or failed.
    ask_within<click_result>(
      caf::infinite, app, app.directory, respond,
      [](const click_result& r) {
        json body = {{"charged", r.charged},
                     {"amount", r.amount},
                     {"remaining_balance", r.remaining_balance}};
        if (!r.reason.empty())
          body["reason"] = r.reason;
        return json_reply(200, body);
      },
      click_atom::value, click);
  });
}

}  // namespace adserver::net
