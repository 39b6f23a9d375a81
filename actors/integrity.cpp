#include "actors/integrity.hpp"

#include "actors/integrity_logic.hpp"
#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/integrity_statements.hpp"

namespace adserver {

namespace {

using self_ptr = integrity_actor::stateful_pointer<integrity_state>;

void finish(self_ptr self) {
  auto& st = self->state;
  st.running = false;
  auto& report = st.current;
  report.finished_at = iso8601_now();
  report.findings_total = 0;
  auto& t = telemetry();
  for (size_t i = 0; i < report.checks.size(); ++i) {
    auto& c = report.checks[i];
    report.findings_total += c.count;
    // A check that could not run says so; it does not report "0 found".
    t.integrity_check_errors[i].store(c.error.empty() ? 0 : 1, std::memory_order_relaxed);
    if (c.error.empty())
      t.integrity_findings[i].store(c.count, std::memory_order_relaxed);
    else
      log_line(log_level::error, "integrity_check_failed", {{"check", c.name}, {"error", c.error}});
    for (auto& f : c.samples)
      log_line(log_level::warn, "integrity_finding",
               {{"check", c.name},
                {"table", f.table},
                {"id", std::to_string(f.id), true},
                {"detail", f.detail}});
  }
  t.integrity_runs.fetch_add(1, std::memory_order_relaxed);
  t.integrity_last_run_ms.store(epoch_millis(), std::memory_order_relaxed);
  ++st.runs;
  log_line(report.findings_total > 0 ? log_level::warn : log_level::info, "integrity_check",
           {{"findings", std::to_string(report.findings_total), true},
            {"started_at", report.started_at},
            {"finished_at", report.finished_at}});
  st.last = report;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& p : waiting)
    p.deliver(report);
}

void run_check(self_ptr self, size_t i) {
  if (i >= integrity_check_count) {
    finish(self);
    return;
  }
  self->request(self->state.reader, std::chrono::milliseconds(self->state.settings.check_timeout_ms),
                query_atom::value, storage::integrity_check(i))
    .then(
      [=](const pg_rows& rows) {
        self->state.current.checks.push_back(read_check(i, rows));
        run_check(self, i + 1);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        integrity_check_result failed;
        failed.name = integrity_check_name(i);
        failed.error = view(err).message;
        ++st.failed_checks;
        st.current.checks.push_back(std::move(failed));
        run_check(self, i + 1);
      });
}

/// Starts a run unless one is under way.
void start_run(self_ptr self) {
  auto& st = self->state;
  if (st.running)
    return;
  st.running = true;
  st.current = integrity_report{};
  st.current.started_at = iso8601_now();
  run_check(self, 0);
}

}  // namespace

integrity_actor::behavior_type integrity(integrity_actor::stateful_pointer<integrity_state> self,
                                         pg_reader_actor reader, integrity_settings settings) {
  self->state.reader = std::move(reader);
  self->state.settings = settings;
  if (settings.interval_seconds > 0)
    self->delayed_send(self, std::chrono::seconds(std::max<int64_t>(1, settings.first_run_seconds)),
                       poll_atom::value);
  return {
    [=](check_atom) -> caf::result<integrity_report> {
      auto promise = self->make_response_promise<integrity_report>();
      self->state.waiting.push_back(promise);
      start_run(self);
      return promise;
    },
    [=](get_atom) -> caf::result<integrity_report> {
      auto& st = self->state;
      if (!st.last)
        return make_error(ec::not_found,
                          st.running ? "the first integrity check is running; ask again shortly"
                                     : "no integrity check has run on this node yet");
      auto report = *st.last;
      report.running = st.running;
      return report;
    },
    [=](poll_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      start_run(self);
      self->delayed_send(self, std::chrono::seconds(st.settings.interval_seconds),
                         poll_atom::value);
    },
    [=](status_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "integrity";
      r.figures = {{"runs", st.runs},
                   {"running", st.running ? 1 : 0},
                   {"failed_checks", st.failed_checks},
                   {"findings", st.last ? st.last->findings_total : 0}};
      if (st.last)
        r.info["last_run"] = st.last->finished_at;
      if (st.running)
        r.info["running_since"] = st.current.started_at;
      return r;
    },
  };
}

}  // namespace adserver
