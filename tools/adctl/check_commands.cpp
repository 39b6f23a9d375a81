// adctl reconcile and integrity: money and reference checks. Both exit 1 when
// they find something, so scripts and cron can act on the status alone.
#include "protocol/business_time.hpp"
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace adctl {

using nlohmann::json;

int run_reconcile(invocation& inv) {
  std::string target = "/admin/v1/inspect/reconcile";
  if (!inv.args.empty())
    target += "?advertiser_id=" + std::to_string(positive_integer(inv.args[0], "ADVERTISER"));
  auto read = [&](const std::string& path) {
    auto page = inv.api().get(path);
    if (!page.is_object() || !page.contains("consistent") || !page["consistent"].is_boolean())
      throw failure("the node's reconcile answer has no 'consistent' flag");
    return page;
  };
  auto j = read(target);
  // The whole node comes in pages of 10,000 advertisers: follow them all and
  // report them as one comparison.
  for (int pages = 1; j.contains("next_after_id") && j["next_after_id"].is_number_integer()
                      && pages < 100000;
       ++pages) {
    auto page = read(target + "?after_id=" + j["next_after_id"].dump());
    j["checked"] = j.value("checked", int64_t{0}) + page.value("checked", int64_t{0});
    j["consistent"] = j["consistent"].get<bool>() && page["consistent"].get<bool>();
    for (auto& d : page["differences"])
      j["differences"].push_back(d);
    for (auto& id : page["pending"])
      j["pending"].push_back(id);
    j["ledgers_in_memory"] =
      j.value("ledgers_in_memory", int64_t{0}) + page.value("ledgers_in_memory", int64_t{0});
    j["truncated"] = j.value("truncated", false) || page.value("truncated", false);
    j["next_after_id"] = page.value("next_after_id", json(nullptr));
  }
  bool consistent = j["consistent"].get<bool>();
  // A truncated comparison (a page's campaigns past the row limit) has not shown that
  // everything agrees: not a pass.
  bool truncated = j.value("truncated", false);
  int status = consistent && !truncated ? 0 : 1;
  if (inv.json) {
    print_json(std::cout, j);
    return status;
  }
  auto& differences = j["differences"];
  std::cout << "checked " << text(j, "checked") << " advertiser(s): "
            << (consistent ? std::string{"consistent"}
                           : std::to_string(differences.size()) + " difference(s)")
            << "\n";
  if (truncated)
    std::cout << "truncated: a page had more campaigns than one comparison reads; not "
                 "everything was compared "
                 "(name an ADVERTISER to check one)\n";
  if (j.contains("pending") && j["pending"].is_array() && !j["pending"].empty()) {
    std::cout << "pending (writes in flight, memory not compared; run again): ";
    bool first = true;
    for (auto& id : j["pending"]) {
      std::cout << (first ? "" : ", ") << id.dump();
      first = false;
    }
    std::cout << "\n";
  }
  if (!differences.is_array() || differences.empty())
    return status;
  table t({"KEY", "WHAT", "ADVERTISER", "CAMPAIGN", "MEMORY", "POSTGRES", "HISTORY", "REDIS"});
  for (auto& d : differences)
    t.add({text(d, "key"), text(d, "what"), text(d, "advertiser_id"), text(d, "campaign_id"),
           text(d, "memory"), text(d, "postgres"), text(d, "history"), text(d, "redis")});
  t.print(std::cout);
  return status;
}

namespace {

using steady = std::chrono::steady_clock;

constexpr double default_wait_seconds = 600;

/// j[key] when it is a string, "" otherwise.
std::string string_at(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_string())
    return "";
  return j.at(key).get<std::string>();
}

/// The checks that could not run (they carry an "error").
size_t failed_checks(const json& report) {
  size_t failed = 0;
  if (report.contains("checks") && report["checks"].is_array())
    for (auto& c : report["checks"])
      if (!string_at(c, "error").empty())
        ++failed;
  return failed;
}

int64_t findings_total(const json& report) {
  if (report.contains("findings_total") && report["findings_total"].is_number_integer())
    return report["findings_total"].get<int64_t>();
  return 0;
}

/// GET /admin/v1/integrity once a second until it answers the report of the
/// run that started at `started_at` (runs on a node follow one another, so a
/// report of a run started later also means ours is over: then that one),
/// for at most `wait_seconds`. Meanwhile a 404 (the node's first run is not
/// over) or a 503 (the node is busy) is asked again.
json wait_for_run(admin_api& api, const std::string& started_at, double wait_seconds) {
  const auto deadline =
    steady::now()
    + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(wait_seconds));
  const auto ours = adserver::parse_iso8601(started_at);
  if (::isatty(STDERR_FILENO))
    std::cerr << "adctl: the check started at " << started_at
              << " outlasts the request; waiting for its report (--wait " << wait_seconds
              << " s)\n";
  std::string last_answer;
  for (;;) {
    auto now = steady::now();
    if (now >= deadline)
      throw failure("the integrity check started at " + started_at + " did not finish within "
                    + text(json(wait_seconds)) + " s (--wait)" + last_answer
                    + "; it goes on, and 'adctl integrity' shows its report when done");
    std::this_thread::sleep_for(
      std::min<steady::duration>(std::chrono::seconds(1), deadline - now));
    auto [status, body] = api.probe("/admin/v1/integrity");
    if (status == 404 || status == 503) {
      last_answer = " (the node last answered " + std::to_string(status) + ")";
      continue;
    }
    if (status < 200 || status >= 300)
      api_error(status, body);
    auto report = json::parse(body, nullptr, false);
    if (!report.is_object())
      throw failure("the node answered " + std::to_string(status) + " without a report");
    last_answer.clear();
    auto started = string_at(report, "started_at");
    if (started == started_at)
      return report;
    auto theirs = adserver::parse_iso8601(started);
    if (ours && theirs && *theirs > *ours) {
      std::cerr << "adctl: the run started at " << started_at
                << " was followed by another before its report was read; showing that one ("
                << started << ")\n";
      return report;
    }
  }
}

}  // namespace

int run_integrity(invocation& inv) {
  bool run = inv.has("--run");
  double wait = default_wait_seconds;
  if (inv.has("--wait")) {
    if (!run)
      throw usage_error("--wait goes with --run (it bounds the wait for a run started now)");
    wait = positive_number(inv.flag_or("--wait", ""), "--wait");
  }
  auto& api = inv.api();
  json report;
  if (run) {
    auto [status, answer] = api.post_answer("/admin/v1/integrity/check");
    if (status == 202) {
      // Longer than the node's admin deadline: it goes on; this is its start.
      auto started_at = string_at(answer, "started_at");
      if (started_at.empty())
        throw failure("the node answered 202 without the run's started_at");
      report = wait_for_run(api, started_at, wait);
    } else {
      report = std::move(answer);
    }
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
  if (!report.is_object())
    throw failure("the node's integrity report is not a JSON object");
  auto findings = findings_total(report);
  auto failed = failed_checks(report);
  // A check that could not run is a failure as much as a finding is.
  const int exit_status = findings > 0 || failed > 0 ? 1 : 0;
  if (inv.json) {
    print_json(std::cout, report);
    return exit_status;
  }
  std::vector<std::pair<std::string, std::string>> fields = {
    {"started", text(report, "started_at")},
    {"finished", text(report, "finished_at")},
    {"findings", std::to_string(findings)},
    {"failed checks", std::to_string(failed)}};
  if (report.contains("running") && report["running"] == true)
    fields.emplace_back("running", "yes, a newer run is under way");
  print_fields(std::cout, fields);
  std::cout << "\n";
  table checks({"CHECK", "COUNT", "ERROR"});
  table samples({"CHECK", "TABLE", "ID", "DETAIL"});
  if (report.contains("checks") && report["checks"].is_array())
    for (auto& c : report["checks"]) {
      auto error = string_at(c, "error");
      // A check that could not run found nothing: its count is no "0 found".
      checks.add({text(c, "name"), error.empty() ? text(c, "count") : "-",
                  error.empty() ? "-" : error});
      if (c.contains("samples") && c["samples"].is_array())
        for (auto& s : c["samples"])
          samples.add({text(c, "name"), text(s, "table"), text(s, "id"), text(s, "detail")});
    }
  checks.print(std::cout);
  if (!samples.empty()) {
    std::cout << "\n";
    samples.print(std::cout);
  }
  return exit_status;
}

}  // namespace adctl
