// adctl reconcile and integrity: money and reference checks. Both exit 1 when
// they find something, so scripts and cron can act on the status alone.
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <thread>

#include <unistd.h>

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
  // A truncated comparison (past the node's row limits) has not shown that
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
    std::cout << "truncated: more rows than one comparison reads; not everything was compared "
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

/// A time as the node writes it ("2026-11-25T10:00:00.123+09:00", or with
/// "Z") in milliseconds since the epoch; nullopt for anything else.
std::optional<int64_t> epoch_ms(const std::string& s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used)
      != 6)
    return std::nullopt;
  size_t i = static_cast<size_t>(used);
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i)
      if (digits < 3) {
        millis = millis * 10 + (s[i] - '0');
        ++digits;
      }
    for (; digits < 3; ++digits)
      millis *= 10;
  }
  int64_t offset_seconds = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset_seconds = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    i += 6;
  }
  if (i != s.size())
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return (static_cast<int64_t>(::timegm(&tm)) - offset_seconds) * 1000 + millis;
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
  const auto ours = epoch_ms(started_at);
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
    auto theirs = epoch_ms(started);
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
