#pragma once
// The report of the data integrity checks (actors/integrity_logic.hpp), as
// the integrity actor answers it: a message record of the actor protocol.
#include <caf/meta/type_name.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

/// The checks (actors/integrity_logic.cpp names them; storage/
/// integrity_statements.cpp holds their SQL, one statement each).
constexpr size_t integrity_check_count = 7;
/// Examples reported per check (the statements' LIMIT).
constexpr int64_t integrity_samples = 10;

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

}  // namespace adserver
