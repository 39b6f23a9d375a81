#include "storage/integrity_statements.hpp"

#include "protocol/integrity_report.hpp"

#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace adserver::storage {

namespace {

// Every check: the offending rows as (id, detail); wrapped below to the
// total and the first samples by id.
#define INTEGRITY_LIMIT 10
#define INTEGRITY_TEXT(x) #x
#define INTEGRITY_STRING(x) INTEGRITY_TEXT(x)
static_assert(integrity_samples == INTEGRITY_LIMIT, "the checks' LIMIT is integrity_samples");
#define INTEGRITY_CHECK(inner)                                                 \
  "SELECT id, detail, count(*) OVER () FROM (" inner ") q ORDER BY id LIMIT " \
  INTEGRITY_STRING(INTEGRITY_LIMIT)

constexpr std::pair<const char*, const char*> statements[] = {
  {"integrity_check_0",
   INTEGRITY_CHECK("SELECT c.id, 'advertiser ' || c.advertiser_id || ' does not exist' AS detail"
                   " FROM ad_campaigns c WHERE c.activated = 1 AND NOT EXISTS"
                   " (SELECT 1 FROM ad_advertisers a WHERE a.id = c.advertiser_id)")},
  {"integrity_check_1",
   INTEGRITY_CHECK("SELECT c.id, 'advertiser ' || c.advertiser_id || ' is not active (campaign "
                   "status ' || c.status || ')' AS detail"
                   " FROM ad_campaigns c JOIN ad_advertisers a ON a.id = c.advertiser_id"
                   " WHERE c.activated = 1 AND c.status <> 'ENDED' AND a.activated <> 1")},
  {"integrity_check_2",
   INTEGRITY_CHECK("SELECT b.campaign_id AS id, 'bid for ' || b.placement || ' of missing "
                   "campaign ' || b.campaign_id AS detail"
                   " FROM ad_placement_bids b WHERE b.activated = 1 AND NOT EXISTS"
                   " (SELECT 1 FROM ad_campaigns c WHERE c.id = b.campaign_id)")},
  {"integrity_check_3",
   INTEGRITY_CHECK("SELECT b.advertiser_id AS id, 'balance row of missing advertiser ' ||"
                   " b.advertiser_id AS detail FROM ad_balances b WHERE NOT EXISTS"
                   " (SELECT 1 FROM ad_advertisers a WHERE a.id = b.advertiser_id)")},
  {"integrity_check_4",
   // Both ways: a balance without its history, and history without a balance row.
   INTEGRITY_CHECK("SELECT coalesce(b.advertiser_id, h.advertiser_id) AS id,"
                   " CASE WHEN b.advertiser_id IS NULL THEN 'no balance row but its history"
                   " sums to ' || h.total ELSE 'balance ' || b.current_balance ||"
                   " ' but its history sums to ' || coalesce(h.total, 0) END AS detail"
                   " FROM ad_balances b FULL OUTER JOIN (SELECT advertiser_id, sum(CASE WHEN"
                   " transaction_type IN ('INITIAL', 'CHARGE') THEN amount ELSE -amount END)"
                   " AS total FROM ad_balance_histories GROUP BY advertiser_id) h"
                   " ON h.advertiser_id = b.advertiser_id"
                   " WHERE b.advertiser_id IS NULL OR b.current_balance <> coalesce(h.total, 0)")},
  {"integrity_check_5",
   // Both ways: a spend row that disagrees with the clicks, and charged
   // clicks of a campaign with no spend row.
   INTEGRITY_CHECK("SELECT coalesce(s.campaign_id, k.campaign_id) AS id,"
                   " CASE WHEN s.campaign_id IS NULL THEN 'no spend row but its charged clicks"
                   " sum to ' || k.total ELSE 'spent_total ' || s.spent_total ||"
                   " ' but its charged clicks sum to ' || coalesce(k.total, 0) END AS detail"
                   " FROM ad_campaign_spend s FULL OUTER JOIN (SELECT campaign_id, sum(amount)"
                   " AS total FROM ad_clicks WHERE charged GROUP BY campaign_id) k"
                   " ON k.campaign_id = s.campaign_id"
                   " WHERE s.campaign_id IS NULL OR s.spent_total <> coalesce(k.total, 0)")},
  {"integrity_check_6",
   INTEGRITY_CHECK(
     "SELECT id, t || ': ' || reason AS detail FROM ("
     " SELECT 'ad_advertisers' AS t, id, CASE WHEN activated NOT IN (0, 1) THEN 'activated is '"
     "   || activated WHEN created_user_id = '' THEN 'created_user_id is empty'"
     "   WHEN updated_at < created_at THEN 'updated_at before created_at' END AS reason"
     "   FROM ad_advertisers"
     " UNION ALL SELECT 'ad_campaigns', id, CASE WHEN activated NOT IN (0, 1) THEN"
     "   'activated is ' || activated WHEN created_user_id = '' THEN 'created_user_id is empty'"
     "   WHEN updated_at < created_at THEN 'updated_at before created_at' END"
     "   FROM ad_campaigns"
     " UNION ALL SELECT 'ad_balances', advertiser_id, CASE WHEN activated NOT IN (0, 1) THEN"
     "   'activated is ' || activated WHEN created_user_id = '' THEN 'created_user_id is empty'"
     "   WHEN updated_at < created_at THEN 'updated_at before created_at' END"
     "   FROM ad_balances"
     " UNION ALL SELECT 'ad_placement_bids', campaign_id, CASE WHEN activated NOT IN (0, 1)"
     "   THEN 'activated is ' || activated WHEN created_user_id = '' THEN"
     "   'created_user_id is empty' WHEN updated_at < created_at THEN"
     "   'updated_at before created_at' END FROM ad_placement_bids"
     ") x WHERE reason IS NOT NULL")},
  {"reconcile_balances",
   "SELECT a.id, coalesce(b.current_balance, 0), coalesce(h.total, 0) FROM ad_advertisers a"
   " LEFT JOIN ad_balances b ON b.advertiser_id = a.id"
   " LEFT JOIN LATERAL (SELECT sum(CASE WHEN transaction_type IN ('INITIAL', 'CHARGE')"
   "   THEN amount ELSE -amount END) AS total FROM ad_balance_histories"
   "   WHERE advertiser_id = a.id) h ON true"
   " WHERE ($1::bigint = 0 OR a.id = $1::bigint) AND a.id > $2::bigint"
   " ORDER BY a.id LIMIT 10000"},
  {"reconcile_spend",
   "SELECT c.id, c.advertiser_id, coalesce(d.spent, 0) FROM ad_campaigns c"
   " LEFT JOIN ad_campaign_daily_spend d ON d.campaign_id = c.id AND d.spend_date = $2::date"
   " WHERE ($1::bigint = 0 OR c.advertiser_id = $1::bigint)"
   "   AND c.advertiser_id IN (SELECT id FROM ad_advertisers"
   "     WHERE ($1::bigint = 0 OR id = $1::bigint) AND id > $3::bigint"
   "     ORDER BY id LIMIT 10000)"
   " ORDER BY c.id LIMIT 20000"},
};

#undef INTEGRITY_CHECK
#undef INTEGRITY_STRING
#undef INTEGRITY_TEXT
#undef INTEGRITY_LIMIT

// integrity_check_0 .. integrity_check_{count - 1}, then the two reconcile
// statements: a check added without its statement (or the reverse) fails here.
static_assert(std::size(statements) == integrity_check_count + 2,
              "one statement per integrity check");

}  // namespace

const std::vector<std::pair<const char*, const char*>>& integrity_named_statements() {
  static const std::vector<std::pair<const char*, const char*>> all{std::begin(statements),
                                                                    std::end(statements)};
  return all;
}

pg_statement integrity_check(size_t check) {
  return {"integrity_check_" + std::to_string(check), {}};
}

}  // namespace adserver::storage

namespace adserver::storage {

pg_statement reconcile_balances(int64_t advertiser_id, int64_t after_id) {
  return {"reconcile_balances", {std::to_string(advertiser_id), std::to_string(after_id)}};
}

pg_statement reconcile_spend(int64_t advertiser_id, const std::string& day, int64_t after_id) {
  return {"reconcile_spend", {std::to_string(advertiser_id), day, std::to_string(after_id)}};
}

}  // namespace adserver::storage
