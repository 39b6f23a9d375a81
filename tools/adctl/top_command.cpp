// adctl top: /admin/v1/monitoring/realtime as a screen refreshed every
// --interval seconds (ANSI clear), until Ctrl-C; --once prints one frame.
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

namespace adctl {

using nlohmann::json;

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) {
  interrupted = 1;
}

/// Home the cursor, then clear the screen.
constexpr const char* clear_screen = "\x1b[H\x1b[2J";

const json& field(const json& j, const char* key) {
  static const json null;
  return j.is_object() && j.contains(key) ? j.at(key) : null;
}

std::string frame(const json& rt) {
  std::ostringstream out;
  auto& requests = field(rt, "requests");
  auto& business = field(rt, "business");
  auto& io = field(rt, "io");
  std::string uptime = field(rt, "uptime_seconds").is_number_integer()
                         ? duration(field(rt, "uptime_seconds").get<int64_t>())
                         : "-";
  out << "adserver " << text(rt, "node") << "  " << text(rt, "version") << " (build "
      << text(rt, "build") << ")  up " << uptime << "  "
      << (field(rt, "ready") == true ? "ready" : "NOT READY") << "  " << text(rt, "generated_at")
      << "\n";
  out << "requests " << decimal(field(requests, "per_second"), 2) << "/s  errors "
      << decimal(field(requests, "errors_per_second"), 2) << "/s  total "
      << text(requests, "total") << "  (last " << text(rt, "window_seconds") << " s)\n";
  out << "business ad match " << percent(field(business, "ad_match_rate")) << "  deductions ok "
      << percent(field(business, "balance_deduction_success_rate")) << "  burn "
      << decimal(field(business, "budget_burn_rate"), 4) << "  clicks "
      << decimal(field(business, "clicks_charged_per_second"), 2) << "/s  money "
      << decimal(field(business, "money_charged_per_second"), 1) << " won/s\n\n";

  // Busiest routes first.
  std::vector<json> routes;
  for (auto& r : field(rt, "routes"))
    routes.push_back(r);
  std::stable_sort(routes.begin(), routes.end(), [](const json& a, const json& b) {
    return a.value("count", 0.0) > b.value("count", 0.0);
  });
  table t({"METHOD", "ROUTE", "COUNT", "RATE/S", "ERRORS", "P50_MS", "P95_MS", "P99_MS"});
  for (auto& r : routes)
    t.add({text(r, "method"), text(r, "route"), text(r, "count"),
           decimal(field(r, "per_second"), 2), text(r, "errors"), millis(field(r, "p50_ms")),
           millis(field(r, "p95_ms")), millis(field(r, "p99_ms"))});
  if (t.empty())
    out << "no requests in the window\n";
  else
    t.print(out);
  out << "\n";
  table actors({"ACTOR", "COUNT", "MAILBOX"});
  for (auto& a : field(rt, "actors"))
    actors.add({text(a, "kind"), text(a, "count"), text(a, "mailbox")});
  actors.print(out);
  out << "\n";
  std::string spool = field(io, "event_spool_bytes").is_number_integer()
                        ? bytes(field(io, "event_spool_bytes").get<int64_t>())
                        : text(io, "event_spool_bytes");
  out << "queues   redis " << text(io, "redis_queue") << "  kafka " << text(io, "kafka_queue")
      << "  spool " << spool << "  dead letters " << text(io, "dead_letters") << "\n";
  out << "storage  postgres " << (field(io, "postgres_up") == true ? "up" : "DOWN") << "  redis "
      << (field(io, "redis_up") == true ? "up" : "DOWN") << "  pg commit batch "
      << decimal(field(io, "pg_commit_batch_avg"), 1) << "  p99 "
      << millis(field(io, "pg_commit_p99_ms")) << " ms\n";
  return out.str();
}

}  // namespace

int run_top(invocation& inv) {
  double interval = 1.0;
  if (inv.has("--interval"))
    interval = positive_number(inv.flag_or("--interval", ""), "--interval");
  bool once = inv.has("--once");
  auto& api = inv.api();
  // The first answer decides whether the node can be watched at all.
  auto rt = api.get("/admin/v1/monitoring/realtime");
  if (once) {
    if (inv.json)
      print_json(std::cout, rt);
    else
      std::cout << frame(rt);
    return 0;
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::string problem;
  while (!interrupted) {
    if (inv.json)
      std::cout << rt.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
    else
      std::cout << clear_screen << frame(rt) << (problem.empty() ? "" : "\n" + problem + "\n")
                << std::flush;
    auto until = std::chrono::steady_clock::now()
                 + std::chrono::milliseconds(static_cast<int64_t>(interval * 1000));
    while (!interrupted && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (interrupted)
      break;
    // A node that stops answering shows it under the last frame, and is
    // asked again next time.
    try {
      rt = api.get("/admin/v1/monitoring/realtime");
      problem.clear();
    } catch (const failure& e) {
      problem = std::string{"adctl: "} + e.what();
    }
  }
  if (!inv.json)
    std::cout << "\n";
  return 0;
}

}  // namespace adctl
