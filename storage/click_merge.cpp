#include "storage/click_merge.hpp"

#include "storage/statements.hpp"
#include "storage/click_sql.hpp"
#include "storage/dashboard_statements.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace adserver::storage {

namespace {

// click_charge's parameters ($1 advertiser, $2 version, $3 balance before,
// $4 balance after, $5 clicks, $6-$20 the per-click arrays, $21 epoch).
constexpr size_t advertiser_param = 0;
constexpr size_t clicks_param = 4;
constexpr size_t first_array_param = 5;
constexpr size_t array_params = 15;
constexpr size_t epoch_param = 20;
constexpr size_t click_charge_params = 21;

const std::vector<std::pair<const char*, const char*>> statements = {
  {"click_charge_merged",
   // click_charge for several advertisers at once: per advertiser ($1-$6,
   // aligned) the balance compare-and-set; per click ($7-$22, aligned, $7
   // its advertiser) the rows, kept only for the advertisers whose
   // compare-and-set hit. Returns (advertiser, history id) per kept click.
   "WITH b AS ("
   "  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],"
   "    $5::bigint[], $6::bigint[])"
   "    AS b(advertiser_id, version, balance_before, balance_after, clicks, epoch)),"
   " upd AS ("
   "  UPDATE ad_balances a SET current_balance = b.balance_after,"
   "    version = b.version + b.clicks, updated_user_id = 'click'"
   "  FROM b WHERE a.advertiser_id = b.advertiser_id AND a.version = b.version"
   "    AND a.current_balance = b.balance_before AND a.lease_epoch = b.epoch"
   "  RETURNING a.advertiser_id),"
   " c AS ("
   "  SELECT t.* FROM unnest($7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],"
   "    $11::bigint[], $12::text[], $13::date[], $14::text[], $15::text[], $16::text[],"
   "    $17::text[], $18::timestamptz[], $19::text[], $20::text[], $21::text[], $22::text[])"
   "    WITH ORDINALITY"
   "    AS t(advertiser_id, campaign_id, amount, balance_before, balance_after, memo, spend_date,"
   "      ad_id, device_id, session_id, request_id, clicked_at, product_id,"
   "      original_product_id, exp_key, exp_var, n)"
   "  WHERE t.advertiser_id IN (SELECT advertiser_id FROM upd)),"
   " hist AS ("
   "  INSERT INTO ad_balance_histories (advertiser_id, transaction_type, amount,"
   "    balance_before, balance_after, campaign_id, memo, created_user_id, updated_user_id)"
   "  SELECT advertiser_id, 'CLICK', amount, balance_before, balance_after, campaign_id, memo,"
   "    'click', 'click' FROM c ORDER BY n RETURNING advertiser_id, id),"
   ADSERVER_CLICK_SPEND_CTES
   " clk AS ("
   "  INSERT INTO ad_clicks (advertiser_id, campaign_id, ad_id, device_id, session_id,"
   "    request_id, clicked_at, charged, amount, product_id, original_product_id, exp_key,"
   "    exp_var)"
   "  SELECT advertiser_id, campaign_id, ad_id, device_id, session_id, request_id, clicked_at,"
   "    true, amount, product_id, original_product_id, exp_key, exp_var FROM c)"
   " SELECT advertiser_id, id FROM hist"},
};

/// A unit that may be merged: one click_charge statement, no key.
bool mergeable(const std::vector<pg_statement>& unit, const idempotency_ticket* ticket) {
  return unit.size() == 1 && unit[0].name == "click_charge"
         && unit[0].params.size() == click_charge_params && (!ticket || ticket->key.empty());
}

/// One element quoted the way array_literal quotes it (ids: no escaping).
void append_element(std::string& into, const std::string& value) {
  into.insert(into.size() - 1, (into.size() > 2 ? ",\"" : "\"") + value + "\"");
}

pg_statement merge(const std::vector<const std::vector<pg_statement>*>& units,
                   const std::vector<size_t>& run) {
  std::vector<std::string> params(22, "{}");
  for (auto u : run) {
    auto& p = (*units[u])[0].params;
    for (size_t k = 0; k < 4; ++k)  // advertiser, version, balance before, after
      append_element(params[k], p[k]);
    append_element(params[4], p[clicks_param]);
    append_element(params[5], p[epoch_param]);
    std::string advertisers = "{";
    for (int64_t i = 0, n = to_int(p[clicks_param]); i < n; ++i)
      advertisers += (i ? ",\"" : "\"") + p[advertiser_param] + "\"";
    advertisers += "}";
    append_array_literal(params[6], advertisers);
    for (size_t k = 0; k < array_params; ++k)
      append_array_literal(params[7 + k], p[first_array_param + k]);
  }
  return {"click_charge_merged", std::move(params)};
}

}  // namespace

const std::vector<std::pair<const char*, const char*>>& click_merge_named_statements() {
  return statements;
}

merged_batch merge_units(const std::vector<const std::vector<pg_statement>*>& units,
                         const std::vector<const idempotency_ticket*>& tickets) {
  merged_batch plan;
  plan.advertiser_of.resize(units.size());
  plan.clicks_of.resize(units.size());
  for (auto* unit : units)
    plan.unit_sizes.push_back(unit->size());
  plan.merged.reserve(units.size());  // the run-units point into it
  std::vector<size_t> run;
  run_kind run_of = run_kind::single;
  std::set<std::string> advertisers;
  size_t clicks = 0;
  auto add_single = [&](size_t u) {
    plan.units.push_back(units[u]);
    plan.tickets.push_back(u < tickets.size() ? tickets[u] : nullptr);
    plan.members.push_back({u});
    plan.kind.push_back(run_kind::single);
  };
  auto close_run = [&] {
    if (run.size() == 1) {
      add_single(run[0]);
    } else if (run.size() > 1) {
      if (run_of == run_kind::clicks) {
        plan.merged.push_back({merge(units, run)});
      } else {
        std::vector<const std::vector<pg_statement>*> members;
        for (auto u : run)
          members.push_back(units[u]);
        plan.merged.push_back(merge_dashboard_units(members));
      }
      plan.units.push_back(&plan.merged.back());
      plan.tickets.push_back(nullptr);
      plan.members.push_back(run);
      plan.kind.push_back(run_of);
    }
    run.clear();
    advertisers.clear();
    clicks = 0;
  };
  for (size_t u = 0; u < units.size(); ++u) {
    auto* ticket = u < tickets.size() ? tickets[u] : nullptr;
    bool keyless = !ticket || ticket->key.empty();
    if (keyless && dashboard_unit_mergeable(*units[u])) {
      if (run_of != run_kind::dashboards)
        close_run();
      run_of = run_kind::dashboards;
      run.push_back(u);
      continue;
    }
    if (!mergeable(*units[u], ticket)) {
      close_run();
      add_single(u);
      continue;
    }
    auto& p = (*units[u])[0].params;
    auto n = static_cast<size_t>(std::max<int64_t>(0, to_int(p[clicks_param])));
    if (run_of != run_kind::clicks || advertisers.count(p[advertiser_param]) > 0
        || clicks + n > max_merged_clicks)
      close_run();
    run_of = run_kind::clicks;
    run.push_back(u);
    advertisers.insert(p[advertiser_param]);
    plan.advertiser_of[u] = p[advertiser_param];
    plan.clicks_of[u] = n;
    clicks += n;
  }
  close_run();
  return plan;
}

std::vector<pg_results> split_merged_results(const merged_batch& plan,
                                             std::vector<pg_results>& results,
                                             size_t original_units, std::vector<bool>& doubtful) {
  std::vector<pg_results> out(original_units);
  doubtful.assign(original_units, false);
  for (size_t k = 0; k < plan.members.size(); ++k) {
    auto& members = plan.members[k];
    if (k >= results.size()) {
      for (auto u : members)
        doubtful[u] = true;
      continue;
    }
    if (plan.kind[k] == run_kind::single) {
      out[members[0]] = std::move(results[k]);
      continue;
    }
    if (plan.kind[k] == run_kind::dashboards) {
      // No rows: each unit's statements answer nothing either.
      bool whole = results[k].size() == plan.units[k]->size();
      for (auto& rows : results[k])
        whole = whole && rows.empty();
      for (auto u : members) {
        doubtful[u] = !whole;
        if (whole)
          out[u] = pg_results(plan.unit_sizes[u]);
      }
      continue;
    }
    // One statement's (advertiser, id) rows, given back as each unit's ids.
    std::map<std::string, pg_rows> ids;
    bool whole = results[k].size() == 1;
    if (whole)
      for (auto& row : results[k][0]) {
        whole = whole && row.size() == 2;
        if (whole)
          ids[row[0]].push_back(pg_row{row[1]});
      }
    size_t claimed = 0;
    for (auto u : members) {
      auto it = ids.find(plan.advertiser_of[u]);
      auto n = it == ids.end() ? size_t{0} : it->second.size();
      whole = whole && (n == 0 || n == plan.clicks_of[u]);
      claimed += n;
    }
    whole = whole && claimed == (results[k].empty() ? 0 : results[k][0].size());
    for (auto u : members) {
      doubtful[u] = !whole;
      if (whole)
        out[u] = pg_results{std::move(ids[plan.advertiser_of[u]])};
    }
  }
  return out;
}

}  // namespace adserver::storage
