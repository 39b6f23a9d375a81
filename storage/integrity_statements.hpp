#pragma once
// The SQL of the integrity checks (actors/integrity_logic.hpp): read-only,
// each answering (id, detail, total) for at most integrity_samples rows.
// Plain MVCC reads: they take no lock a writer waits for.
#include "protocol/records.hpp"

#include <string>
#include <utility>
#include <vector>

namespace adserver::storage {

/// (name, SQL) of the integrity statements (registered with the others).
const std::vector<std::pair<const char*, const char*>>& integrity_named_statements();

/// The statement of check `check` (0 .. integrity_check_count - 1).
pg_statement integrity_check(size_t check);

/// Reconciliation, one advertiser or (0) the first 10,000 by id above
/// `after_id` (a page): advertiser_id, current_balance, history sum.
pg_statement reconcile_balances(int64_t advertiser_id, int64_t after_id = 0);
/// Today's spend of those advertisers' campaigns (at most 20,000):
/// campaign_id, advertiser_id, spent on `day`.
pg_statement reconcile_spend(int64_t advertiser_id, const std::string& day,
                             int64_t after_id = 0);

}  // namespace adserver::storage
