// The writer's merge of many ledgers' click units into one statement: which
// units merge, the merged parameters, and the results given back per unit.
#include "storage/click_merge.hpp"
#include "storage/dashboard_statements.hpp"
#include "storage/statements.hpp"

#include <gtest/gtest.h>

using namespace adserver;
using namespace adserver::storage;

namespace {

click_write click(int64_t advertiser, int64_t version, int64_t before, int64_t amount,
                  const std::string& device) {
  click_write c;
  c.advertiser_id = advertiser;
  c.expected_version = version;
  c.balance_before = before;
  c.balance_after = before - amount;
  c.campaign_id = advertiser * 10;
  c.amount = amount;
  c.business_date = "2026-12-07";
  c.ad_id = "ad_" + device;
  c.device_id = device;
  c.request_id = "r-" + device;
  c.clicked_at = "2026-12-07T10:00:00+09:00";
  return c;
}

std::vector<metric_delta> deltas(int64_t minute_start, int64_t clicks) {
  metric_delta d;
  d.window = time_window{minute_start, minute_start + 60, window_unit::minute};
  d.type = metric::clicks;
  d.value = clicks;
  return {d};
}

std::vector<variant_delta> variant_deltas(const std::string& var, int64_t clicks) {
  variant_delta d;
  d.exp_key = "price";
  d.exp_var = var;
  d.day = time_window{1'765'000'000, 1'765'086'400, window_unit::day};
  d.type = metric::clicks;
  d.value = clicks;
  return {d};
}

std::vector<const std::vector<pg_statement>*> pointers(
  const std::vector<std::vector<pg_statement>>& units) {
  std::vector<const std::vector<pg_statement>*> out;
  for (auto& u : units)
    out.push_back(&u);
  return out;
}

}  // namespace

TEST(ClickMerge, ConsecutiveUnitsOfDistinctAdvertisersBecomeOneStatement) {
  auto a1 = click(1, 5, 100, 10, "d1");
  auto a2 = click(1, 5, 90, 10, "d\"2");  // quoted in the array literal
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({a1, a2}, 7)},
    {click_charge({click(2, 0, 50, 5, "d3")}, 1)},
    {click_charge({click(1, 7, 80, 10, "d4")}, 7)},  // advertiser 1 again: a new run
    {balance_change_write(3, 0, 10, 20, "CHARGE", 10, "", "it", 0)},
    {click_charge({click(4, 0, 50, 5, "d5")}, 1)},
  };
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 4u);
  EXPECT_EQ(plan.members[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.members[1], (std::vector<size_t>{2}));
  EXPECT_EQ(plan.members[2], (std::vector<size_t>{3}));
  EXPECT_EQ(plan.members[3], (std::vector<size_t>{4}));
  EXPECT_EQ(plan.kind, (std::vector<run_kind>{run_kind::clicks, run_kind::single,
                                              run_kind::single, run_kind::single}));
  EXPECT_EQ(plan.units[1], &units[2]);  // as the ledger wrote it
  EXPECT_EQ(plan.units[2], &units[3]);
  auto& merged = (*plan.units[0])[0];
  EXPECT_EQ(merged.name, "click_charge_merged");
  EXPECT_EQ(merged.params[0], R"({"1","2"})");              // advertisers
  EXPECT_EQ(merged.params[1], R"({"5","0"})");              // expected versions
  EXPECT_EQ(merged.params[3], R"({"80","45"})");            // balances after
  EXPECT_EQ(merged.params[4], R"({"2","1"})");              // clicks
  EXPECT_EQ(merged.params[5], R"({"7","1"})");              // epochs
  EXPECT_EQ(merged.params[6], R"({"1","1","2"})");          // each click's advertiser
  EXPECT_EQ(merged.params[8], R"({"10","10","5"})");        // amounts
  EXPECT_EQ(merged.params[14], R"({"d1","d\"2","d3"})");   // devices
}

TEST(ClickMerge, AUnitWithAnIdempotencyKeyIsNeverMerged) {
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({click(1, 0, 100, 10, "d1")}, 1)},
    {click_charge({click(2, 0, 100, 10, "d2")}, 1)},
  };
  idempotency_ticket keyed;
  keyed.key = "k";
  std::vector<const idempotency_ticket*> tickets = {nullptr, &keyed};
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 2u);
  EXPECT_EQ(plan.tickets[1], &keyed);
  EXPECT_EQ(plan.kind, (std::vector<run_kind>{run_kind::single, run_kind::single}));
}

TEST(ClickMerge, AMergedStatementsRowsGoBackToEachUnitAndAMissToNone) {
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({click(1, 0, 100, 10, "d1"), click(1, 0, 90, 10, "d2")}, 1)},
    {click_charge({click(2, 0, 100, 10, "d3")}, 1)},  // its compare-and-set missed
    {balance_change_write(3, 0, 10, 20, "CHARGE", 10, "", "it", 0)},
  };
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 2u);
  std::vector<pg_results> results = {
    {{{"1", "501"}, {"1", "502"}}},  // (advertiser, history id)
    {{{"900", "3", "10", "20"}}},
  };
  std::vector<bool> doubtful;
  auto out = split_merged_results(plan, results, units.size(), doubtful);
  EXPECT_EQ(doubtful, (std::vector<bool>{false, false, false}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (pg_results{{{"501"}, {"502"}}}));
  EXPECT_EQ(out[1], (pg_results{{}}));
  EXPECT_EQ(out[2], (pg_results{{{"900", "3", "10", "20"}}}));
}

TEST(ClickMerge, AMergedStatementCarriesABoundedNumberOfClicks) {
  std::vector<std::vector<pg_statement>> units;
  std::vector<click_write> many;
  for (size_t i = 0; i < max_merged_clicks - 1; ++i)
    many.push_back(click(1, 0, 1'000'000, 1, "m" + std::to_string(i)));
  units.push_back({click_charge(many, 1)});
  units.push_back({click_charge({click(2, 0, 100, 1, "x")}, 1)});
  units.push_back({click_charge({click(3, 0, 100, 1, "y")}, 1)});  // one too many
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 2u);
  EXPECT_EQ(plan.members[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.members[1], (std::vector<size_t>{2}));
}

TEST(ClickMerge, AMergedAnswerThatDoesNotFitItsUnitsLeavesTheirOutcomeUnknown) {
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({click(1, 0, 100, 10, "d1"), click(1, 0, 90, 10, "d2")}, 1)},
    {click_charge({click(2, 0, 100, 10, "d3")}, 1)},
  };
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 1u);
  // Each answer committed, yet does not say which clicks went in: never a
  // "miss" (that would tell a charged client it failed).
  std::vector<pg_results> odd_answers[] = {
    {{{{"1", "501"}}}},                          // one id for two clicks
    {{{{"1", "501"}, {"1", "502"}, {"9", "503"}}}},  // an advertiser not in it
    {{{{"1", "501", "x"}, {"1", "502"}}}},          // a malformed row
    {},                                           // no result at all
  };
  for (auto& results : odd_answers) {
    std::vector<bool> doubtful;
    split_merged_results(plan, results, units.size(), doubtful);
    EXPECT_EQ(doubtful, (std::vector<bool>{true, true}));
  }
}

TEST(DashboardMerge, ConsecutiveWindowUnitsBecomeOneUnitWithTheirArraysJoined) {
  std::vector<std::vector<pg_statement>> units = {
    {dashboard_metrics_add(7, deltas(600, 2))},
    {dashboard_metrics_add(9, deltas(600, 3)), variant_metrics_add(9, variant_deltas("B", 1))},
    {variant_metrics_add(11, variant_deltas("A\"x", 4))},  // quoted in the array literal
    {click_charge({click(2, 0, 50, 5, "d3")}, 1)},         // ends the run
    {dashboard_metrics_add(12, deltas(660, 1))},            // alone: as it is
  };
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 3u);
  EXPECT_EQ(plan.kind, (std::vector<run_kind>{run_kind::dashboards, run_kind::single,
                                              run_kind::single}));
  EXPECT_EQ(plan.members[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(plan.units[2], &units[4]);
  auto& merged = *plan.units[0];
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].name, "dashboard_metrics_add");
  EXPECT_EQ(merged[0].params[0], R"({"7","9"})");    // campaigns
  EXPECT_EQ(merged[0].params[1], R"({"CLICKS","CLICKS"})");
  EXPECT_EQ(merged[0].params[2], R"({"2","3"})");    // values
  EXPECT_EQ(merged[0].params[3], R"({"600","600"})");  // window starts
  EXPECT_EQ(merged[1].name, "variant_metrics_add");
  EXPECT_EQ(merged[1].params[0], R"({"9","11"})");
  EXPECT_EQ(merged[1].params[2], R"({"B","A\"x"})");
  EXPECT_EQ(merged[1].params[4], R"({"1","4"})");
}

TEST(DashboardMerge, EachUnitGetsItsOwnEmptyResultsAndAnUnexpectedAnswerLeavesThemUnknown) {
  std::vector<std::vector<pg_statement>> units = {
    {dashboard_metrics_add(7, deltas(600, 2))},
    {dashboard_metrics_add(9, deltas(600, 3)), variant_metrics_add(9, variant_deltas("B", 1))},
  };
  idempotency_ticket keyed;
  keyed.key = "k";
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 1u);
  std::vector<pg_results> results = {{{}, {}}};
  std::vector<bool> doubtful;
  auto out = split_merged_results(plan, results, units.size(), doubtful);
  EXPECT_EQ(doubtful, (std::vector<bool>{false, false}));
  EXPECT_EQ(out[0], pg_results(1));
  EXPECT_EQ(out[1], pg_results(2));
  std::vector<pg_results> odd = {{{{"1"}}, {}}};  // rows from a statement that returns none
  out = split_merged_results(plan, odd, units.size(), doubtful);
  EXPECT_EQ(doubtful, (std::vector<bool>{true, true}));
  tickets[1] = &keyed;  // a unit with a key runs alone
  EXPECT_EQ(merge_units(pointers(units), tickets).units.size(), 2u);
}
