#include "actors/integrity_logic.hpp"

#include <iterator>

namespace adserver {

namespace {

struct check_names {
  const char* name;
  const char* table;
};

constexpr check_names checks[] = {
  {"campaigns_of_missing_advertiser", "ad_campaigns"},
  {"campaigns_of_inactive_advertiser", "ad_campaigns"},
  {"bids_of_missing_campaign", "ad_placement_bids"},
  {"balances_of_missing_advertiser", "ad_balances"},
  {"balance_differs_from_history", "ad_balances"},
  {"spend_differs_from_clicks", "ad_campaign_spend"},
  {"missing_common_fields", "*"},
};
// One name per check: a check added to the count without a name fails here.
static_assert(std::size(checks) == integrity_check_count, "one name per integrity check");

int64_t number(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

const char* integrity_check_name(size_t check) {
  return check < std::size(checks) ? checks[check].name : "unknown";
}

const char* integrity_check_table(size_t check) {
  return check < std::size(checks) ? checks[check].table : "unknown";
}

integrity_check_result read_check(size_t check,
                                  const std::vector<std::vector<std::string>>& rows) {
  integrity_check_result out;
  out.name = integrity_check_name(check);
  for (auto& row : rows) {
    if (row.size() < 3)
      continue;
    out.count = number(row[2]);
    integrity_finding f;
    f.id = number(row[0]);
    f.detail = row[1];
    // missing_common_fields names its table in the detail ("table: ...").
    auto colon = f.detail.find(':');
    f.table = std::string{integrity_check_table(check)} == "*" && colon != std::string::npos
                ? f.detail.substr(0, colon)
                : integrity_check_table(check);
    out.samples.push_back(std::move(f));
  }
  return out;
}

}  // namespace adserver
