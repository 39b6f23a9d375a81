// adctl reconcile and integrity: money and reference checks. Both exit 1 when
// they find something, so scripts and cron can act on the status alone.
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace adctl {

using nlohmann::json;

int run_reconcile(invocation& inv) {
  std::string target = "/admin/v1/inspect/reconcile";
  if (!inv.args.empty())
    target += "?advertiser_id=" + std::to_string(positive_integer(inv.args[0], "ADVERTISER"));
  auto j = inv.api().get(target);
  if (!j.is_object() || !j.contains("consistent") || !j["consistent"].is_boolean())
    throw failure("the node's reconcile answer has no 'consistent' flag");
  bool consistent = j["consistent"].get<bool>();
  if (inv.json) {
    print_json(std::cout, j);
    return consistent ? 0 : 1;
  }
  auto& differences = j["differences"];
  std::cout << "checked " << text(j, "checked") << " advertiser(s): "
            << (consistent ? std::string{"consistent"}
                           : std::to_string(differences.size()) + " difference(s)")
            << "\n";
  if (!differences.is_array() || differences.empty())
    return consistent ? 0 : 1;
  table t({"KEY", "WHAT", "ADVERTISER", "CAMPAIGN", "MEMORY", "POSTGRES", "HISTORY", "REDIS"});
  for (auto& d : differences)
    t.add({text(d, "key"), text(d, "what"), text(d, "advertiser_id"), text(d, "campaign_id"),
           text(d, "memory"), text(d, "postgres"), text(d, "history"), text(d, "redis")});
  t.print(std::cout);
  return consistent ? 0 : 1;
}

int run_integrity(invocation& inv) {
  auto& api = inv.api();
  json report;
  if (inv.has("--run")) {
    report = api.post("/admin/v1/integrity/check");
  } else {
    auto [status, body] = api.probe("/admin/v1/integrity");
    if (status == 404)
      throw failure("no integrity report yet (404 NOT_FOUND); run 'adctl integrity --run'");
    if (status < 200 || status >= 300)
      api_error(status, body);
    report = json::parse(body, nullptr, false);
    if (report.is_discarded())
      throw failure("the node answered " + std::to_string(status) + " without JSON");
  }
  auto findings = report.value("findings_total", int64_t{0});
  if (inv.json) {
    print_json(std::cout, report);
    return findings > 0 ? 1 : 0;
  }
  print_fields(std::cout, {{"started", text(report, "started_at")},
                           {"finished", text(report, "finished_at")},
                           {"findings", std::to_string(findings)}});
  std::cout << "\n";
  table checks({"CHECK", "COUNT"});
  table samples({"CHECK", "TABLE", "ID", "DETAIL"});
  if (report.contains("checks"))
    for (auto& c : report["checks"]) {
      checks.add({text(c, "name"), text(c, "count")});
      if (c.contains("samples"))
        for (auto& s : c["samples"])
          samples.add({text(c, "name"), text(s, "table"), text(s, "id"), text(s, "detail")});
    }
  checks.print(std::cout);
  if (!samples.empty()) {
    std::cout << "\n";
    samples.print(std::cout);
  }
  return findings > 0 ? 1 : 0;
}

}  // namespace adctl
