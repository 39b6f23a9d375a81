// Campaign dashboards (seed 004, camelCase), alerts, the advertiser
// dashboard and advertiser API keys. Reads go to pg-reader; counts come from
// the dashboard-window actors' flushes (docs/dashboards.md).
#include "actors/dashboard.hpp"
#include "actors/dashboard_logic.hpp"
#include "actors/pacing.hpp"
#include "actors/validation.hpp"
#include "net/api_key_refresh.hpp"
#include "net/api_keys.hpp"
#include "net/ask.hpp"
#include "net/event_stream.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "protocol/telemetry.hpp"
#include "storage/dashboard_statements.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>

#include <caf/send.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace adserver::net {

using nlohmann::json;

namespace {

constexpr int64_t max_rows = 10000;
constexpr int64_t far_future = 253402300799;  // 9999-12-31T23:59:59Z

std::string iso_s(int64_t s) {
  return iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(s)));
}
std::string iso_ms(int64_t ms) {
  return iso8601(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

int64_t to_i(const std::string& s) {
  return s.empty() ? 0 : std::stoll(s);
}

json ratios(const std::array<int64_t, metric_count>& v) {
  auto d = derive(v);
  return {{"ctr", d.ctr}, {"cvr", d.cvr}, {"cpc", d.cpc}, {"roas", d.roas}};
}

/// Counts as the advertiser dashboard shows them (snake_case, admin API).
json figures(const std::array<int64_t, metric_count>& v) {
  auto at = [&v](metric m) { return v[static_cast<size_t>(m)]; };
  json j = {{"impressions", at(metric::impressions)},
            {"clicks", at(metric::clicks)},
            {"charged_clicks", at(metric::charged_clicks)},
            {"conversions", at(metric::conversions)},
            {"spend", at(metric::spend)},
            {"revenue", at(metric::revenue)}};
  j.update(ratios(v));
  return j;
}

/// Answers a caf::error through `respond`.
auto fail_with(respond_fn respond) {
  return [respond](caf::error& err) { respond(error_reply(err)); };
}

}  // namespace

void with_readable_campaign(const app_context& app, const route_context& ctx,
                            respond_fn respond, int64_t id, campaign_read_fn then) {
  auto directory = app.directory;
  auto advertiser = ctx.advertiser_id;
  // An advertiser key learns nothing about campaigns that are not its own:
  // missing, deleted and foreign all answer the same 403.
  auto not_yours = [respond] {
    respond(error_reply(403, "FORBIDDEN", "this key reads its own advertiser's campaigns only"));
  };
  auto failed = [respond, advertiser, not_yours](caf::error& err) {
    if (advertiser != 0 && view(err).code != ec::unavailable)
      return not_yours();
    respond(error_reply(err));
  };
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(directory, actor_timeout, campaign_atom::value, id)
      .then(
        [=](campaign_actor& c) {
          self->request(c, actor_timeout, get_atom::value)
            .then(
              [=](campaign_record& rec) {
                if (advertiser != 0 && rec.advertiser_id != advertiser)
                  return not_yours();
                if (!rec.audit.activated)
                  return respond(error_reply(404, "NOT_FOUND",
                                             "campaign " + std::to_string(id) + " is deleted"));
                then(self, rec);
              },
              failed);
        },
        failed);
  });
}

namespace {

/// Runs one write statement within the request's deadline; `then` gets its
/// first result row, `missing` answers when there is none.
template <class F>
void write_one(caf::event_based_actor* self, const app_context& app, respond_fn respond,
               pg_statement stmt, deadline due, http_reply missing, F then) {
  self->request(app.io.writer, actor_timeout, write_atom::value,
                std::vector<pg_statement>{std::move(stmt)}, due, idempotency_ticket{})
    .then(
      [=](pg_results& results) {
        if (results.empty() || results[0].empty())
          return respond(missing);
        then(results[0][0]);
      },
      fail_with(respond));
}

/// Runs one read statement.
template <class F>
void read(caf::event_based_actor* self, const app_context& app, respond_fn respond,
          pg_statement stmt, F then) {
  self->request(app.dashboard_reader(), actor_timeout, query_atom::value, std::move(stmt))
    .then([=](pg_rows& rows) { then(rows); }, fail_with(respond));
}

json summary_json(int64_t campaign_id, const pg_rows& rows) {
  pg_row r = rows.empty() ? pg_row(10, "0") : rows.front();
  auto last = to_i(r.at(3));
  return {{"campaignId", campaign_id},
          {"totalEvents", to_i(r.at(0))},
          {"eventsLast24Hours", to_i(r.at(1))},
          {"eventsLast7Days", to_i(r.at(2))},
          {"lastUpdated", last > 0 ? json(iso_ms(last)) : json(nullptr)},
          {"impressions", to_i(r.at(4))},
          {"clicks", to_i(r.at(5))},
          {"chargedClicks", to_i(r.at(6))},
          {"conversions", to_i(r.at(7))},
          {"spend", to_i(r.at(8))},
          {"revenue", to_i(r.at(9))}};
}

json alerts_json(int64_t campaign_id, const pg_rows& rows) {
  json out = json::array();
  for (auto& r : rows)
    out.push_back({{"alertId", to_i(r.at(0))},
                   {"campaignId", campaign_id},
                   {"alertType", r.at(1)},
                   {"message", r.at(2)},
                   {"observedValue", std::stod(r.at(3))},
                   {"thresholdValue", std::stod(r.at(4))},
                   {"timeWindowStart", iso_s(to_i(r.at(5)))},
                   {"firedAt", iso_ms(to_i(r.at(6)))}});
  return out;
}

/// What GET .../dashboard asks for.
struct dashboard_query {
  std::string unit;  // "" = every stored unit
  int64_t from = 0;
  int64_t to = far_future;
};

caf::error read_dashboard_query(const http_request& req, dashboard_query& q) {
  auto get = [&req](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::optional<std::string>{} : it->second;
  };
  auto start = get("startTime");
  auto end = get("endTime");
  auto unit = get("timeWindowUnit");
  if (unit) {
    if (!parse_unit(*unit))
      return validation_error("timeWindowUnit",
                              "timeWindowUnit must be MINUTE, HOUR, DAY, WEEK or MONTH");
    q.unit = *unit;
  }
  if (start.has_value() != end.has_value())
    return validation_error(start ? "endTime" : "startTime",
                            "startTime and endTime must be given together");
  if (start) {
    auto s = parse_iso8601(*start);
    if (!s)
      return validation_error("startTime", "startTime must be an ISO 8601 date-time");
    auto e = parse_iso8601(*end);
    if (!e)
      return validation_error("endTime", "endTime must be an ISO 8601 date-time");
    if (*s >= *e)
      return validation_error("startTime", "startTime must be before endTime");
    q.from = *s;
    q.to = *e;
    return caf::none;
  }
  if (unit) {
    // The unit alone: its recent windows (seed 004's third mode).
    auto now = epoch_seconds();
    auto u = *parse_unit(*unit);
    int64_t span = u == window_unit::minute ? 3600
                   : u == window_unit::hour ? 48 * 3600
                   : u == window_unit::day  ? 31 * 86400
                   : u == window_unit::week ? 12 * 7 * 86400
                                            : 366 * 86400;
    q.from = window_of(now - span, u).start;
    q.to = window_of(now, u).end;
  }
  return caf::none;
}

/// metricType names in camelCase (EVENT_COUNT -> eventCount).
const std::array<std::string, metric_count>& camel_names() {
  static const auto names = [] {
    std::array<std::string, metric_count> out;
    for (size_t m = 0; m < metric_count; ++m) {
      std::string name = metric_name(static_cast<metric>(m));
      bool upper = false;
      for (char c : name) {
        if (c == '_') {
          upper = true;
          continue;
        }
        out[m] += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        upper = false;
      }
    }
    return out;
  }();
  return names;
}

/// A ratio or amount with up to 6 decimals, never in exponent form.
std::string number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", x);
  std::string out = buf;
  while (out.back() == '0')
    out.pop_back();
  if (out.back() == '.')
    out.pop_back();
  return out;
}

/// The metrics rows (seed 004's shape) and one object per window, written
/// straight into `out` (thousands of rows: no JSON DOM per row).
void write_metrics(std::string& out, int64_t campaign_id, const pg_rows& rows) {
  std::map<std::tuple<int64_t, std::string, int64_t>, std::array<int64_t, metric_count>> grouped;
  // Windows repeat over nine metrics: format each instant once.
  std::map<int64_t, std::string> iso_cache;
  auto iso_of = [&iso_cache](int64_t s) -> const std::string& {
    auto it = iso_cache.find(s);
    if (it == iso_cache.end())
      it = iso_cache.emplace(s, json_quote(iso_s(s))).first;
    return it->second;
  };
  auto cid = std::to_string(campaign_id);
  out += "\"metrics\":[";
  bool first = true;
  for (auto& r : rows) {
    auto start = to_i(r.at(3));
    auto end = to_i(r.at(4));
    auto value = to_i(r.at(2));
    out += first ? "{\"id\":" : ",{\"id\":";
    first = false;
    out += r.at(0);
    out += ",\"campaignId\":" + cid + ",\"metricType\":" + json_quote(r.at(1))
           + ",\"metricValue\":" + std::to_string(value) + ",\"timeWindowStart\":";
    out += iso_of(start);
    out += ",\"timeWindowEnd\":";
    out += iso_of(end);
    out += ",\"timeWindowUnit\":" + json_quote(r.at(5)) + ",\"createdAt\":"
           + json_quote(iso_ms(to_i(r.at(6)))) + ",\"updatedAt\":"
           + json_quote(iso_ms(to_i(r.at(7)))) + "}";
    if (auto m = parse_metric(r.at(1)))
      grouped[{-start, r.at(5), end}][static_cast<size_t>(*m)] = value;
  }
  out += "],\"windows\":[";
  first = true;
  auto& names = camel_names();
  for (auto& [key, v] : grouped) {
    out += first ? "{\"timeWindowStart\":" : ",{\"timeWindowStart\":";
    first = false;
    out += iso_of(-std::get<0>(key));
    out += ",\"timeWindowEnd\":";
    out += iso_of(std::get<2>(key));
    out += ",\"timeWindowUnit\":" + json_quote(std::get<1>(key));
    for (size_t m = 0; m < metric_count; ++m)
      out += ",\"" + names[m] + "\":" + std::to_string(v[m]);
    auto d = derive(v);
    out += ",\"ctr\":" + number(d.ctr) + ",\"cvr\":" + number(d.cvr) + ",\"cpc\":"
           + number(d.cpc) + ",\"roas\":" + number(d.roas) + "}";
  }
  out += "]";
}

caf::error decode_alert_rules(const std::string& body, alert_rules& r) {
  json j;
  if (auto err = parse_object(body, j))
    return err;
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"spend_per_hour_above", "ctr_below", "ctr_min_impressions",
                                  "no_impressions_minutes", "anomaly_detection"};
    if (std::find_if(std::begin(known), std::end(known),
                     [&](const char* k) { return it.key() == k; })
        == std::end(known))
      return validation_error(it.key().substr(0, 64), "unknown field");
  }
  auto integer = [&j](const char* k, int64_t lo, int64_t hi, int64_t& out) -> caf::error {
    if (!j.contains(k) || j[k].is_null())
      return caf::none;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > hi)
      return validation_error(k, std::string{k} + " must be an integer from "
                                   + std::to_string(lo) + " to " + std::to_string(hi));
    out = j[k].get<int64_t>();
    return caf::none;
  };
  if (auto e = integer("spend_per_hour_above", 1, 1'000'000'000'000, r.spend_per_hour_above))
    return e;
  if (auto e = integer("ctr_min_impressions", 1, 1'000'000'000, r.ctr_min_impressions))
    return e;
  if (auto e = integer("no_impressions_minutes", 1, 7 * 24 * 60, r.no_impressions_minutes))
    return e;
  if (j.contains("ctr_below") && !j["ctr_below"].is_null()) {
    if (!j["ctr_below"].is_number() || j["ctr_below"].get<double>() <= 0
        || j["ctr_below"].get<double>() > 1)
      return validation_error("ctr_below", "ctr_below must be a number above 0, at most 1");
    r.ctr_below = j["ctr_below"].get<double>();
  }
  if (j.contains("anomaly_detection") && !j["anomaly_detection"].is_null()) {
    if (!j["anomaly_detection"].is_boolean())
      return validation_error("anomaly_detection", "anomaly_detection must be true or false");
    r.anomaly_detection = j["anomaly_detection"].get<bool>();
  }
  return caf::none;
}

json rules_json(const alert_rules& r) {
  return {{"campaign_id", r.campaign_id},
          {"spend_per_hour_above",
           r.spend_per_hour_above > 0 ? json(r.spend_per_hour_above) : json(nullptr)},
          {"ctr_below", r.ctr_below > 0 ? json(r.ctr_below) : json(nullptr)},
          {"ctr_min_impressions", r.ctr_min_impressions},
          {"no_impressions_minutes",
           r.no_impressions_minutes > 0 ? json(r.no_impressions_minutes) : json(nullptr)},
          {"anomaly_detection", r.anomaly_detection}};
}

/// Open dashboard streams per credential (dashboards.max_streams_per_key).
class stream_slots {
public:
  explicit stream_slots(int64_t limit) : limit_(limit) {
  }
  bool take(const std::string& who) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& n = open_[who];
    if (n >= limit_)
      return false;
    ++n;
    return true;
  }
  void give_back(const std::string& who) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = open_.find(who);
    if (it != open_.end() && --it->second <= 0)
      open_.erase(it);
  }

private:
  int64_t limit_;
  std::mutex mtx_;
  std::map<std::string, int64_t> open_;
};

json key_json(const pg_row& r) {
  json j = {{"key_id", to_i(r.at(0))},
            {"advertiser_id", to_i(r.at(1))},
            {"key_prefix", r.at(2)},
            {"created_at", iso_ms(to_i(r.at(3)))}};
  if (r.size() > 4)
    j["revoked_at"] = to_i(r.at(4)) > 0 ? json(iso_ms(to_i(r.at(4)))) : json(nullptr);
  return j;
}

}  // namespace

void add_dashboard_routes(router& r, const app_context& app,
                          std::shared_ptr<api_key_registry> keys) {
  // -- campaign dashboards (seed 004) ----------------------------------------------
  r.add("GET", "/api/v1/campaigns/{id}/dashboard", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          dashboard_query q;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          if (auto err = read_dashboard_query(ctx.request, q))
            return respond(error_reply(err));
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor* self,
                                                            const campaign_record&) {
            bool rollup = q.unit == "WEEK" || q.unit == "MONTH";
            auto stmt = rollup ? storage::dashboard_rollup(id, q.unit, q.from, q.to,
                                                           business_time_zone(), max_rows + 1)
                               : storage::dashboard_rows(id, q.unit, q.from, q.to, max_rows + 1);
            // The three reads run at once (on different readers); the
            // answer is written when the last one is in.
            struct parts {
              pg_rows rows, summary, alerts;
              int missing = 3;
              bool failed = false;
            };
            auto got = std::make_shared<parts>();
            auto finish = [=] {
              if (--got->missing > 0 || got->failed)
                return;
              bool truncated = static_cast<int64_t>(got->rows.size()) > max_rows;
              if (truncated)
                got->rows.resize(max_rows);
              std::string body = "{\"success\":true,\"data\":{\"campaignId\":" + std::to_string(id) + ",";
              body.reserve(got->rows.size() * 300 + 1024);
              write_metrics(body, id, got->rows);
              body += std::string(",\"truncated\":") + (truncated ? "true" : "false")
                      + ",\"summary\":" + summary_json(id, got->summary).dump()
                      + ",\"alerts\":" + alerts_json(id, got->alerts).dump() + "}}";
              http_reply reply;
              reply.body = std::move(body);
              respond(std::move(reply));
            };
            auto fail = [=](caf::error& err) {
              if (got->failed)
                return;
              got->failed = true;
              respond(error_reply(err));
            };
            auto ask = [=](pg_statement st, pg_rows parts::*slot) {
              self->request(app.dashboard_reader(), actor_timeout, query_atom::value, std::move(st))
                .then(
                  [=](pg_rows& rows) {
                    (*got).*slot = std::move(rows);
                    finish();
                  },
                  fail);
            };
            ask(std::move(stmt), &parts::rows);
            ask(storage::dashboard_summary(id, epoch_seconds()), &parts::summary);
            ask(storage::alerts_recent(id, 50), &parts::alerts);
          });
        });
  r.add("GET", "/api/v1/campaigns/{id}/dashboard/summary", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor* self,
                                                            const campaign_record&) {
            read(self, app, respond, storage::dashboard_summary(id, epoch_seconds()),
                 [=](pg_rows& rows) {
                   respond(json_reply(200, {{"success", true}, {"data", summary_json(id, rows)}}));
                 });
          });
        });
  auto slots = std::make_shared<stream_slots>(
    app.config ? app.config->dashboards_max_streams_per_key : 5);
  r.add("GET", "/api/v1/campaigns/{id}/dashboard/stream", access::stream_reader,
        [app, slots](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          int64_t duration = 3600;
          if (auto it = ctx.request.query.find("durationSeconds");
              it != ctx.request.query.end()) {
            auto& v = it->second;
            bool ok = !v.empty() && v.size() <= 5
                      && v.find_first_not_of("0123456789") == std::string::npos;
            duration = ok ? std::stoll(v) : 0;
            if (duration < 1 || duration > 86400)
              return respond(error_reply(validation_error(
                "durationSeconds", "durationSeconds must be an integer from 1 to 86400")));
          }
          if (!app.streams)
            return respond(error_reply(503, "UNAVAILABLE", "dashboard streams are off"));
          // Resume: EventSource sends Last-Event-ID itself when it reconnects.
          std::string after;
          if (auto it = ctx.request.headers.find("last-event-id");
              it != ctx.request.headers.end())
            after = it->second.substr(0, 64);
          else if (auto q = ctx.request.query.find("lastEventId"); q != ctx.request.query.end())
            after = q->second.substr(0, 64);
          auto who = ctx.principal;
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor*,
                                                            const campaign_record&) {
            if (!slots->take(who)) {
              telemetry().rate_limited_stream.fetch_add(1, std::memory_order_relaxed);
              return respond(error_reply(
                429, "RATE_LIMITED",
                "too many open dashboard streams for this credential (dashboards.max_streams_per_key)"));
            }
            auto stream = std::make_shared<event_stream>();
            stream->duration = std::chrono::seconds(duration);
            auto reader = app.streams;
            auto key = dashboard_stream_key(id);
            stream->on_open = [reader, key, after](std::shared_ptr<event_sink> sink) {
              stream_subscriber sub;
              sub.key = key;
              sub.after_id = after;
              // The subscriber owns the sink (the session does not); the
              // sink points weakly at its connection, and closed() tells
              // the stream reader when to drop the subscriber.
              sub.deliver = [sink](const std::string& entry_id, const std::string& type,
                                   const std::string& data) {
                return sink->send(type, entry_id, data);
              };
              sub.gone = [sink] { return sink->closed(); };
              caf::anon_send(reader, watch_atom::value, std::move(sub));
            };
            stream->on_close = [slots, who] { slots->give_back(who); };
            http_reply reply;
            reply.stream = std::move(stream);
            respond(std::move(reply));
          });
        });
  r.add("GET", "/api/v1/campaigns/{id}/dashboard/variants", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          auto it = ctx.request.query.find("exp_key");
          if (it == ctx.request.query.end() || it->second.empty() || it->second.size() > 100)
            return respond(error_reply(validation_error(
              "exp_key", "exp_key is required (1 to 100 characters)")));
          auto exp_key = it->second;
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor* self,
                                                            const campaign_record&) {
            read(self, app, respond, storage::dashboard_variants(id, exp_key),
                 [=](pg_rows& rows) {
                   std::map<std::string, std::array<int64_t, metric_count>> by_var;
                   for (auto& row : rows)
                     if (auto m = parse_metric(row.at(1)))
                       by_var[row.at(0)][static_cast<size_t>(*m)] = to_i(row.at(2));
                   json variants = json::array();
                   for (auto& [var, v] : by_var) {
                     auto at = [&v](metric m) { return v[static_cast<size_t>(m)]; };
                     json x = {{"expVar", var},
                               {"impressions", at(metric::impressions)},
                               {"clicks", at(metric::clicks)},
                               {"chargedClicks", at(metric::charged_clicks)},
                               {"spend", at(metric::spend)},
                               {"conversions", at(metric::conversions)},
                               {"revenue", at(metric::revenue)}};
                     x.update(ratios(v));
                     variants.push_back(std::move(x));
                   }
                   respond(json_reply(200, {{"success", true},
                                            {"data",
                                             {{"campaignId", id},
                                              {"expKey", exp_key},
                                              {"variants", std::move(variants)}}}}));
                 });
          });
        });

  // -- alerts ---------------------------------------------------------------------------
  r.add("PUT", "/admin/v1/campaigns/{id}/alerts", access::admin,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          alert_rules rules;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          if (auto err = decode_alert_rules(ctx.request.body, rules))
            return respond(error_reply(err));
          rules.campaign_id = id;
          auto who = ctx.principal;
          auto due = deadline{ctx.request.deadline_ms};
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor* self,
                                                            const campaign_record&) {
            write_one(self, app, respond, storage::alert_rules_put(rules, who), due,
                      error_reply(500, "INTERNAL", "alert rules not stored"),
                      [=](const pg_row& row) {
                        auto stored = storage::parse_alert_rules(row);
                        if (app.io.dashboards)
                          self->send(app.io.dashboards, alert_atom::value, stored);
                        respond(json_reply(200, rules_json(stored)));
                      });
          });
        });
  r.add("GET", "/admin/v1/campaigns/{id}/alerts", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          with_readable_campaign(app, ctx, respond, id, [=](caf::event_based_actor* self,
                                                            const campaign_record&) {
            read(self, app, respond, storage::alert_rules_get(id), [=](pg_rows& rows) {
              alert_rules rules;
              rules.campaign_id = id;
              if (!rows.empty())
                rules = storage::parse_alert_rules(rows.front());
              read(self, app, respond, storage::alerts_recent(id, 50), [=](pg_rows& alerts) {
                auto body = rules_json(rules);
                body["alerts"] = alerts_json(id, alerts);
                respond(json_reply(200, body));
              });
            });
          });
        });

  // -- advertiser dashboard (seed 000: under 500 ms) -----------------------------------
  r.add("GET", "/admin/v1/advertisers/{id}/dashboard", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          if (!own_advertiser(ctx, respond, id))
            return;
          auto today = business_today();
          auto get = [&ctx](const char* k, const std::string& fallback) {
            auto it = ctx.request.query.find(k);
            return it == ctx.request.query.end() ? fallback : it->second;
          };
          auto today_start = *parse_business_date(today);
          auto to_date = get("to", today);
          auto to = parse_business_date(to_date);
          if (!to)
            return respond(error_reply(validation_error("to", "to must be a date YYYY-MM-DD")));
          auto from_date = get("from", business_date(std::chrono::system_clock::time_point(
                                         std::chrono::seconds(*to - 6 * 86400 + 3600))));
          auto from = parse_business_date(from_date);
          if (!from)
            return respond(error_reply(validation_error("from", "from must be a date YYYY-MM-DD")));
          auto period_end = window_of(*to, window_unit::day).end;
          if (*from >= period_end || period_end - *from > 367 * 86400)
            return respond(error_reply(validation_error(
              "from", "from must be on or before to, at most 366 days apart")));
          auto today_end = window_of(today_start, window_unit::day).end;
          auto period_from = *from;
          app.bridge->run([=](caf::event_based_actor* self) {
            self->request(app.directory, actor_timeout, ledger_atom::value, id)
              .then(
                [=](ledger_actor& ledger) {
                  self->request(ledger, actor_timeout, balance_atom::value)
                    .then(
                      [=](balance_view& balance) {
                        read(self, app, respond, storage::advertiser_campaigns(id),
                             [=](pg_rows& campaigns) {
                          read(self, app, respond,
                               storage::advertiser_day_sums(id, today_start, today_end),
                               [=](pg_rows& today_rows) {
                            read(self, app, respond,
                                 storage::advertiser_day_sums(id, period_from, period_end),
                                 [=](pg_rows& period_rows) {
                              using counts = std::array<int64_t, metric_count>;
                              std::map<int64_t, counts> t, p;
                              counts t_all{}, p_all{};
                              auto fold = [](const pg_rows& rows, std::map<int64_t, counts>& by,
                                             counts& all) {
                                for (auto& row : rows)
                                  if (auto m = parse_metric(row.at(1))) {
                                    auto v = to_i(row.at(2));
                                    by[to_i(row.at(0))][static_cast<size_t>(*m)] += v;
                                    all[static_cast<size_t>(*m)] += v;
                                  }
                              };
                              fold(today_rows, t, t_all);
                              fold(period_rows, p, p_all);
                              std::map<int64_t, int64_t> spent_today;
                              for (auto& c : balance.campaigns)
                                spent_today[c.campaign_id] = c.spent_today;
                              int64_t spent_all = 0;
                              for (auto& [cid, s] : spent_today)
                                spent_all += s;
                              // Each campaign's pacing target beside its spend.
                              auto answer = [=](const traffic_curves& curves) mutable {
                                auto seconds = business_seconds_into_day(
                                  std::chrono::system_clock::now());
                                json list = json::array();
                                for (auto& row : campaigns) {
                                  auto cid = to_i(row.at(0));
                                  auto delivery = row.at(7);
                                  auto target = campaign_pacing_target(
                                    to_i(row.at(3)), delivery, storage::parse_bids(row.at(8)),
                                    curves,
                                    app.config ? app.config->pacing_allowance_percent : 2,
                                    seconds);
                                  list.push_back({{"campaign_id", cid},
                                                  {"campaign_name", row.at(1)},
                                                  {"status", row.at(2)},
                                                  {"delivery", delivery},
                                                  {"daily_budget", to_i(row.at(3))},
                                                  {"total_budget", to_i(row.at(4))},
                                                  {"start_date", row.at(5)},
                                                  {"end_date", row.at(6)},
                                                  {"spent_today", spent_today[cid]},
                                                  {"pacing_target_today", target},
                                                  {"today", figures(t[cid])},
                                                  {"period", figures(p[cid])}});
                                }
                                respond(json_reply(
                                  200, {{"advertiser_id", id},
                                        {"balance", balance.balance},
                                        {"spent_today", spent_all},
                                        {"today", today},
                                        {"period", {{"from", from_date}, {"to", to_date}}},
                                        {"totals", {{"today", figures(t_all)},
                                                    {"period", figures(p_all)}}},
                                        {"campaigns", std::move(list)}}));
                              };
                              if (!app.traffic)
                                return answer({});
                              self->request(app.traffic, std::chrono::seconds(1),
                                            traffic_atom::value)
                                .then([=](const traffic_curves& c) mutable { answer(c); },
                                      [=](caf::error&) mutable { answer({}); });
                            });
                          });
                        });
                      },
                      fail_with(respond));
                },
                fail_with(respond));
          });
        });

  // -- advertiser API keys ------------------------------------------------------------
  r.add("POST", "/admin/v1/advertisers/{id}/api-keys", access::admin,
        [app, keys](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          auto who = ctx.principal;
          auto due = deadline{ctx.request.deadline_ms};
          app.bridge->run([=](caf::event_based_actor* self) {
            self->request(app.directory, actor_timeout, ledger_atom::value, id)
              .then(
                [=](ledger_actor& ledger) {
                  self->request(ledger, actor_timeout, get_atom::value)
                    .then(
                      [=](advertiser_record& adv) {
                        if (!adv.audit.activated)
                          return respond(error_reply(make_error(
                            ec::reference_inactive,
                            "advertiser " + std::to_string(id) + " is deleted")));
                        auto key = new_api_key();
                        if (key.empty())
                          return respond(error_reply(500, "INTERNAL", "no randomness for a key"));
                        auto hash = sha256_hex(key);
                        write_one(self, app, respond,
                                  storage::api_key_create(id, hash, key.substr(0, 11), who), due,
                                  error_reply(500, "INTERNAL", "key not stored"),
                                  [=](const pg_row& row) {
                                    auto body = key_json(row);
                                    keys->add(hash, {id, body["key_id"].get<int64_t>()});
                                    tell_peers_keys_changed(app);
                                    // Shown once: only its hash is kept.
                                    body["api_key"] = key;
                                    respond(json_reply(201, body));
                                  });
                      },
                      fail_with(respond));
                },
                fail_with(respond));
          });
        });
  r.add("GET", "/admin/v1/advertisers/{id}/api-keys", access::admin,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          app.bridge->run([=](caf::event_based_actor* self) {
            read(self, app, respond, storage::api_keys_of(id), [=](pg_rows& rows) {
              json list = json::array();
              for (auto& row : rows)
                list.push_back(key_json(row));
              respond(json_reply(200, {{"advertiser_id", id}, {"keys", std::move(list)}}));
            });
          });
        });
  r.add("DELETE", "/admin/v1/advertisers/{id}/api-keys/{key_id}", access::admin,
        [app, keys](route_context& ctx, respond_fn respond) {
          int64_t id, key_id;
          if (auto err = read_id(ctx, "id", id))
            return respond(error_reply(err));
          if (auto err = read_id(ctx, "key_id", key_id))
            return respond(error_reply(err));
          auto who = ctx.principal;
          auto due = deadline{ctx.request.deadline_ms};
          app.bridge->run([=](caf::event_based_actor* self) {
            write_one(self, app, respond, storage::api_key_revoke(id, key_id, who), due,
                      error_reply(404, "NOT_FOUND",
                                  "no live key " + std::to_string(key_id) + " of advertiser "
                                    + std::to_string(id)),
                      [=](const pg_row& row) {
                        keys->revoke(key_id);
                        tell_peers_keys_changed(app);
                        auto body = key_json(row);
                        body["revoked"] = true;
                        respond(json_reply(200, body));
                      });
          });
        });
  r.add("GET", "/api/v1/me", access::reader, [](route_context& ctx, respond_fn respond) {
    json body = {{"role", ctx.advertiser_id ? "advertiser" : "admin"},
                 {"advertiser_id", ctx.advertiser_id ? json(ctx.advertiser_id) : json(nullptr)}};
    respond(json_reply(200, body));
  });
}

}  // namespace adserver::net
