// The writer's merge of many ledgers' click units into one statement: which
// units merge, the merged parameters, and the results given back per unit.
#include "storage/click_merge.hpp"
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
  auto plan = merge_click_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 4u);
  EXPECT_EQ(plan.members[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.members[1], (std::vector<size_t>{2}));
  EXPECT_EQ(plan.members[2], (std::vector<size_t>{3}));
  EXPECT_EQ(plan.members[3], (std::vector<size_t>{4}));
  EXPECT_EQ(plan.is_merged, (std::vector<bool>{true, false, false, false}));
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
  auto plan = merge_click_units(pointers(units), tickets);
  ASSERT_EQ(plan.units.size(), 2u);
  EXPECT_EQ(plan.tickets[1], &keyed);
  EXPECT_EQ(plan.is_merged, (std::vector<bool>{false, false}));
}

TEST(ClickMerge, AMergedStatementsRowsGoBackToEachUnitAndAMissToNone) {
  std::vector<std::vector<pg_statement>> units = {
    {click_charge({click(1, 0, 100, 10, "d1"), click(1, 0, 90, 10, "d2")}, 1)},
    {click_charge({click(2, 0, 100, 10, "d3")}, 1)},  // its compare-and-set missed
    {balance_change_write(3, 0, 10, 20, "CHARGE", 10, "", "it", 0)},
  };
  std::vector<const idempotency_ticket*> tickets(units.size(), nullptr);
  auto plan = merge_click_units(pointers(units), tickets);
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
  auto plan = merge_click_units(pointers(units), tickets);
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
  auto plan = merge_click_units(pointers(units), tickets);
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
