#pragma once
// The data integrity checks of seed 000 §12 ("daily batch consistency
// check"): there are no foreign keys, so the application finds orphan and
// inconsistent rows itself. Each check is one read-only statement
// (storage/integrity_statements.hpp) answering (id, detail, total) rows: the
// total count and at most integrity_samples examples.
#include "protocol/integrity_report.hpp"
#include "protocol/telemetry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

/// The check's name (stable: metrics label, report, adctl).
const char* integrity_check_name(size_t check);
/// The table whose rows the check's samples name.
const char* integrity_check_table(size_t check);

/// One check's result from its statement's rows (id, detail, total).
integrity_check_result read_check(size_t check, const std::vector<std::vector<std::string>>& rows);

}  // namespace adserver
