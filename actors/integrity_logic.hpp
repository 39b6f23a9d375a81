#pragma once
// The data integrity checks of seed 000 §12 ("daily batch consistency
// check"): there are no foreign keys, so the application finds orphan and
// inconsistent rows itself. Each check is one read-only statement
// (storage/integrity_statements.hpp) answering (id, detail, total) rows: the
// total count and at most integrity_samples examples.
#include "actors/telemetry.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

constexpr int64_t integrity_samples = 10;

/// The check's name (stable: metrics label, report, adctl).
const char* integrity_check_name(size_t check);
/// The table whose rows the check's samples name.
const char* integrity_check_table(size_t check);

struct integrity_finding {
  std::string table;
  int64_t id = 0;
  std::string detail;
};

struct integrity_check_result {
  std::string name;
  int64_t count = 0;
  std::vector<integrity_finding> samples;
  std::string error;  // the check could not run (database away, timeout)
};

struct integrity_report {
  std::string started_at;   // ISO 8601
  std::string finished_at;  // ISO 8601
  int64_t findings_total = 0;
  std::vector<integrity_check_result> checks;
  bool running = false;  // a newer run is under way (GET)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, integrity_finding& x) {
  return f(caf::meta::type_name("integrity_finding"), x.table, x.id, x.detail);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, integrity_check_result& x) {
  return f(caf::meta::type_name("integrity_check_result"), x.name, x.count, x.samples, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, integrity_report& x) {
  return f(caf::meta::type_name("integrity_report"), x.started_at, x.finished_at,
           x.findings_total, x.checks, x.running);
}

/// One check's result from its statement's rows (id, detail, total).
integrity_check_result read_check(size_t check, const std::vector<std::vector<std::string>>& rows);

}  // namespace adserver
