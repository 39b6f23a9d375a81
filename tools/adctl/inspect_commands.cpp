// adctl status, ledger, campaign, auction, session, actors: one node's view,
// read from /admin/v1/monitoring/realtime, /readyz and /admin/v1/inspect.
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace adctl {

using nlohmann::json;

namespace {

/// j[a][b] or null: the monitor's figures may be missing or null.
const json& at(const json& j, const char* a, const char* b = nullptr) {
  static const json null;
  if (!j.is_object() || !j.contains(a))
    return null;
  const json& x = j.at(a);
  if (!b)
    return x;
  if (!x.is_object() || !x.contains(b))
    return null;
  return x.at(b);
}

/// "ready (postgres up, postgres_counters up, redis up)" from /readyz's answer, 200 or 503.
std::string readiness(int status, const json& body) {
  std::string state = status == 200 ? text(body, "status") : "unavailable";
  const json& components = status == 200 ? at(body, "components") : at(body, "error", "details");
  if (components.is_object() && !components.empty())
    state += " (" + entries(components) + ")";
  return state;
}

std::string up_down(const json& v) {
  return v.is_boolean() ? (v.get<bool>() ? "up" : "down") : text(v);
}

void print_advertiser(const json& a) {
  std::string state = text(a, "status");
  if (at(a, "activated") == 0)
    state += " (deleted)";
  print_fields(std::cout, {{"advertiser", text(a, "id") + " " + text(a, "advertiser_name")},
                           {"business", text(a, "business_number") + " " + text(a, "business_type")},
                           {"email", text(a, "email")},
                           {"state", state},
                           {"balance", text(a, "balance")}});
}

std::string bids_text(const json& bids) {
  if (!bids.is_object() || bids.empty())
    return "none";
  return entries(bids);
}

std::string joined(const json& list) {
  if (!list.is_array() || list.empty())
    return "-";
  std::string out;
  for (auto& x : list)
    out += (out.empty() ? "" : ", ") + text(x);
  return out;
}

void print_campaign_record(const json& c) {
  std::string state = text(c, "status");
  if (at(c, "activated") == 0)
    state += " (deleted)";
  print_fields(std::cout,
               {{"campaign", text(c, "id") + " " + text(c, "campaign_name")},
                {"advertiser", text(c, "advertiser_id")},
                {"product", text(c, "product_id")},
                {"state", state},
                {"dates", text(c, "start_date") + " .. " + text(c, "end_date")},
                {"budgets", "daily " + text(c, "daily_budget") + ", total " + text(c, "total_budget")},
                {"bids", bids_text(at(c, "bids"))},
                {"categories", joined(at(c, "targeting", "categories"))},
                {"keywords", joined(at(c, "targeting", "keywords"))}});
}

std::string id_argument(const invocation& inv, const char* what) {
  return std::to_string(positive_integer(inv.args.at(0), what));
}

}  // namespace

int run_status(invocation& inv) {
  auto& api = inv.api();
  auto rt = api.get("/admin/v1/monitoring/realtime");
  auto [ready_status, ready_body] = api.probe("/readyz");
  auto ready = json::parse(ready_body, nullptr, false);
  // Ready is /readyz's 200 ("ready", or "degraded" with Redis or the
  // counters' writer down); 503 is not ready: printed like the rest, and
  // exit 1 for scripts.
  const int exit_status = ready_status == 200 ? 0 : 1;
  if (inv.json) {
    rt["readyz"] = ready.is_discarded() ? json(nullptr) : ready;
    print_json(std::cout, rt);
    return exit_status;
  }
  auto window = text(rt, "window_seconds");
  auto& io = at(rt, "io");
  std::string started = text(rt, "started_at");
  if (at(rt, "uptime_seconds").is_number_integer())
    started += " (up " + duration(at(rt, "uptime_seconds").get<int64_t>()) + ")";
  std::string spool = at(io, "event_spool_bytes").is_number_integer()
                        ? bytes(at(io, "event_spool_bytes").get<int64_t>())
                        : text(at(io, "event_spool_bytes"));
  print_fields(
    std::cout,
    {{"node", text(rt, "node")},
     {"version", text(rt, "version") + " (build " + text(rt, "build") + ")"},
     {"started", started},
     {"readiness", readiness(ready_status, ready)},
     {"requests", text(at(rt, "requests", "total")) + " total; "
                    + decimal(at(rt, "requests", "per_second"), 2) + "/s, errors "
                    + decimal(at(rt, "requests", "errors_per_second"), 2) + "/s (last " + window
                    + " s)"},
     {"charged", text(at(rt, "totals", "clicks_charged")) + " clicks, "
                   + text(at(rt, "totals", "money_charged")) + " won; "
                   + decimal(at(rt, "business", "clicks_charged_per_second"), 2) + " clicks/s, "
                   + decimal(at(rt, "business", "money_charged_per_second"), 1) + " won/s"},
     {"unbilled", entries(at(rt, "totals", "clicks_unbilled"))},
     {"deductions ok", percent(at(rt, "business", "balance_deduction_success_rate"))},
     {"ad match", percent(at(rt, "business", "ad_match_rate"))},
     {"budget burn", decimal(at(rt, "business", "budget_burn_rate"), 4)},
     {"experiments", percent(at(rt, "business", "experiment_participation_rate"))
                       + " participation, "
                       + percent(at(rt, "business", "baseline_application_rate"))
                       + " baseline"},
     {"rate limited", text(at(rt, "totals", "rate_limited"))},
     {"ref failures", entries(at(rt, "totals", "reference_failures"))},
     {"storage", "postgres " + up_down(at(io, "postgres_up")) + ", redis "
                   + up_down(at(io, "redis_up")) + ", pg commit batch "
                   + decimal(at(io, "pg_commit_batch_avg"), 1) + ", p99 "
                   + millis(at(io, "pg_commit_p99_ms")) + " ms"},
     {"queues", "redis " + text(at(io, "redis_queue")) + ", kafka " + text(at(io, "kafka_queue"))
                  + ", spool " + spool + ", dead letters " + text(at(io, "dead_letters"))},
     {"integrity", "last run " + text(at(rt, "integrity", "last_run")) + ", findings "
                     + text(at(rt, "integrity", "findings"))}});
  return exit_status;
}

int run_ledger(invocation& inv) {
  auto target = "/admin/v1/inspect/ledgers/" + id_argument(inv, "ADVERTISER_ID");
  auto j = inv.api().get(target);
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  print_advertiser(at(j, "advertiser"));
  std::cout << "\n";
  print_status(std::cout, at(j, "status"));
  std::cout << "\n";
  table t({"CAMPAIGN", "DAILY_BUDGET", "SPENT_TODAY", "TOTAL_BUDGET", "SPENT_TOTAL", "MAX_BID",
           "SERVING"});
  for (auto& c : at(j, "campaigns"))
    t.add({text(c, "campaign_id"), text(c, "daily_budget"), text(c, "spent_today"),
           text(c, "total_budget"), text(c, "spent_total"), text(c, "max_bid"),
           text(c, "serving")});
  if (t.empty())
    std::cout << "no active campaigns\n";
  else
    t.print(std::cout);
  return 0;
}

int run_campaign(invocation& inv) {
  auto target = "/admin/v1/inspect/campaigns/" + id_argument(inv, "CAMPAIGN_ID");
  auto j = inv.api().get(target);
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  print_campaign_record(at(j, "campaign"));
  std::cout << "\n";
  print_status(std::cout, at(j, "status"));
  return 0;
}

int run_auction(invocation& inv) {
  auto placement = inv.args.at(0);
  for (auto& c : placement)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool keyed = placement == "SEARCH" || placement == "CATEGORY";
  if (!keyed && placement != "HOME" && placement != "PRODUCT_DETAIL")
    throw usage_error("PLACEMENT must be HOME, CATEGORY, SEARCH or PRODUCT_DETAIL, not '"
                      + inv.args[0] + "'");
  if (keyed && inv.args.size() < 2)
    throw usage_error(std::string{"auction "} + placement + " needs "
                      + (placement == "SEARCH" ? "a search TERM" : "a CATEGORY path"));
  if (!keyed && inv.args.size() > 1)
    throw usage_error("auction " + placement + " takes no category or term");
  std::string target = "/admin/v1/inspect/auctions/" + placement;
  if (keyed)
    target += (placement == "SEARCH" ? "?term=" : "?category=") + encode_component(inv.args[1]);
  auto j = inv.api().get(target);
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  std::cout << "auction " << text(j, "key") << "\n";
  print_status(std::cout, at(j, "status"));
  std::cout << "\n";
  table t({"RANK", "CAMPAIGN", "ADVERTISER", "PRODUCT", "BID", "PCTR", "SCORE", "PRICE",
           "IMPRESSIONS", "CLICKS"});
  for (auto& c : at(j, "candidates"))
    t.add({text(c, "rank"), text(c, "campaign_id"), text(c, "advertiser_id"),
           text(c, "product_id"), text(c, "bid"), decimal(at(c, "pctr"), 5),
           decimal(at(c, "score"), 4), text(c, "price"), text(c, "impressions"),
           text(c, "clicks")});
  if (t.empty())
    std::cout << "no candidates\n";
  else
    t.print(std::cout);
  return 0;
}

int run_session(invocation& inv) {
  auto j = inv.api().get("/admin/v1/inspect/sessions/" + encode_component(inv.args.at(0)));
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  print_fields(std::cout, {{"session", text(j, "session_id")},
                           {"shard", text(j, "shard")},
                           {"expires", text(j, "expires_at")}});
  std::cout << "\n";
  table t({"EXP_KEY", "EXP_VAR", "ORIGINAL", "EXPERIMENT"});
  for (auto& c : at(j, "codes"))
    t.add({text(c, "exp_key"), text(c, "exp_var"), text(c, "original"), text(c, "experiment")});
  if (t.empty())
    std::cout << "no experiment codes\n";
  else
    t.print(std::cout);
  if (at(j, "status").is_object()) {
    std::cout << "\n";
    print_status(std::cout, at(j, "status"));
  }
  return 0;
}

int run_actors(invocation& inv) {
  auto j = inv.api().get("/admin/v1/inspect/actors");
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  std::cout << "node " << text(j, "node") << "\n";
  table t({"KIND", "COUNT", "MAILBOX"});
  for (auto& a : at(j, "actors"))
    t.add({text(a, "kind"), text(a, "count"), text(a, "mailbox")});
  t.print(std::cout);
  if (j.contains("services") && j["services"].is_array() && !j["services"].empty()) {
    std::cout << "\n";
    table s({"SERVICE", "STATUS"});
    for (auto& svc : j["services"]) {
      std::string line;
      if (svc.contains("error")) {
        line = "no answer: " + text(svc, "error");
      } else {
        for (auto* part : {"figures", "info"})
          if (svc.contains(part) && svc[part].is_object())
            for (auto& [k, v] : svc[part].items())
              line += (line.empty() ? "" : " ") + k + "="
                      + (v.is_string() ? v.get<std::string>() : v.dump());
      }
      s.add({text(svc, "name"), line});
    }
    s.print(std::cout);
  }
  return 0;
}

}  // namespace adctl
