#include "actors/ranking.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {
candidate make(int64_t id, int64_t bid, int64_t imps = 0, int64_t clicks = 0,
               double baseline = 0.02) {
  candidate c;
  c.campaign_id = id;
  c.advertiser_id = id;
  c.bid = bid;
  c.impressions = imps;
  c.clicks = clicks;
  c.baseline_ctr = baseline;
  return c;
}
}  // namespace

TEST(Ranking, NewCampaignStartsAtTheBaseline) {
  EXPECT_DOUBLE_EQ(smoothed_ctr(0, 0, 0.02, 1000), 0.02);
  // With many impressions the campaign's own CTR dominates.
  EXPECT_NEAR(smoothed_ctr(1000000, 50000, 0.02, 1000), 0.05, 0.0005);
  // Halfway: prior and data weigh the same.
  EXPECT_NEAR(smoothed_ctr(1000, 100, 0.02, 1000), 0.06, 1e-12);
}

TEST(Ranking, SecondPriceInScoreUnits) {
  ranking_params p;  // alpha 1, reserve 10
  // Same pCTR: plain second price.
  auto r = rank_and_price({make(1, 1000), make(2, 800), make(3, 500)}, p);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].ad.campaign_id, 1);
  EXPECT_EQ(r[0].price, 800);
  EXPECT_EQ(r[1].price, 500);
  EXPECT_EQ(r[2].price, 10);  // last pays the reserve
  EXPECT_EQ(r[2].rank, 3);
}

TEST(Ranking, QualityChangesOrderAndPrice) {
  ranking_params p;
  // Campaign 2 bids less but has twice the CTR: it wins, and pays the price
  // at which its score would tie campaign 1's: 1000 * 0.02 / 0.04 = 500.
  auto r = rank_and_price({make(1, 1000, 1000000, 20000), make(2, 600, 1000000, 40000)}, p);
  ASSERT_EQ(r[0].ad.campaign_id, 2);
  EXPECT_NEAR(r[0].pctr, 0.04, 0.0001);
  EXPECT_GE(r[0].price, 500);
  EXPECT_LE(r[0].price, 501);
  EXPECT_EQ(r[1].price, 10);
}

TEST(Ranking, NeverAboveOwnBidAndReserveCapped) {
  ranking_params p;
  p.reserve_price = 50;
  auto r = rank_and_price({make(1, 30)}, p);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].price, 30);  // reserve above own bid: pays own bid
  r = rank_and_price({make(1, 100), make(2, 100)}, p);
  for (auto& x : r)
    EXPECT_LE(x.price, x.ad.bid);
}

TEST(Ranking, TiesAreDeterministic) {
  ranking_params p;
  auto r = rank_and_price({make(7, 500), make(3, 500), make(5, 500)}, p);
  EXPECT_EQ(r[0].ad.campaign_id, 3);
  EXPECT_EQ(r[1].ad.campaign_id, 5);
  EXPECT_EQ(r[2].ad.campaign_id, 7);
  EXPECT_EQ(r[0].price, 500);  // tie: pays the equal bid
}

TEST(Ranking, AlphaZeroIgnoresQuality) {
  ranking_params p;
  p.alpha = 0;
  auto r = rank_and_price({make(1, 1000, 1000000, 1000), make(2, 900, 1000000, 90000)}, p);
  EXPECT_EQ(r[0].ad.campaign_id, 1);
  EXPECT_EQ(r[0].price, 900);
}

TEST(Ranking, ExpectedCostRoundsUp) {
  ranked_ad a;
  a.price = 1000;
  a.pctr = 0.0123;
  EXPECT_EQ(expected_cost(a), 13);
}

TEST(Ranking, BaselineKeysWalkUpTheCategoryPath) {
  EXPECT_EQ(baseline_keys("a/b/c"),
            (std::vector<std::string>{"defense:category:a/b/c:ctr", "defense:category:a/b:ctr",
                                      "defense:category:a:ctr"}));
  EXPECT_TRUE(baseline_keys("").empty());
}

TEST(Ranking, PickBaselineTakesTheMostSpecificValidCtr) {
  EXPECT_DOUBLE_EQ(pick_baseline({"", "0.03", "0.05"}, 0.01), 0.03);
  EXPECT_DOUBLE_EQ(pick_baseline({"abc", "0", "1.5", "0.02x", "nan", "0.04"}, 0.01), 0.04);
  EXPECT_DOUBLE_EQ(pick_baseline({}, 0.01), 0.01);
  EXPECT_DOUBLE_EQ(pick_baseline({"-0.2"}, 0.01), 0.01);
}

TEST(Ranking, AHigherCategoryBaselineLiftsANewCampaign) {
  ranking_params p;
  auto a = make(1, 900);
  auto b = make(2, 600);
  a.baseline_ctr = 0.01;
  b.baseline_ctr = 0.05;  // its category clicks five times as often
  auto r = rank_and_price({a, b}, p);
  EXPECT_EQ(r[0].ad.campaign_id, 2);
  EXPECT_EQ(r[0].price, 180);  // ceil(900 * 0.01 / 0.05)
}

TEST(Ranking, MoneyUpdatesTheAdvertisersCandidatesOnly) {
  auto a = make(1, 900);
  a.advertiser_id = 7;
  auto b = make(2, 600);
  b.advertiser_id = 8;
  b.balance = 500;
  std::vector<candidate> cs = {a, b};
  advertiser_money m;
  m.advertiser_id = 7;
  m.balance = 12345;
  campaign_spend spend;
  spend.campaign_id = 1;
  spend.daily_budget = 1000;
  spend.spent_today = 400;
  spend.total_budget = 5000;
  spend.spent_total = 2000;
  m.campaigns = {spend};
  EXPECT_TRUE(apply_money(cs, m));
  EXPECT_EQ(cs[0].balance, 12345);
  EXPECT_EQ(cs[0].spent_today, 400);
  EXPECT_EQ(cs[0].total_budget, 5000);
  EXPECT_EQ(cs[1].balance, 500);  // another advertiser: untouched
  m.advertiser_id = 99;
  EXPECT_FALSE(apply_money(cs, m));
  // A deleted advertiser's candidates leave.
  m.advertiser_id = 7;
  m.active = false;
  EXPECT_TRUE(apply_money(cs, m));
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].campaign_id, 2);
}

TEST(Ranking, ACampaignThatCannotPayItsNextClickLeavesTheRanking) {
  // The case: 600 won left of the daily budget, a click costs 900.
  ranking_params p;
  auto a = make(1, 1000);
  auto b = make(2, 950);
  auto c = make(3, 100);
  for (auto* x : {&a, &b, &c}) {
    x->balance = 1'000'000;
    x->daily_budget = 15'000;
    x->total_budget = 1'000'000;
  }
  auto before = rank_eligible({a, b, c}, p);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[0].ad.campaign_id, 1);
  EXPECT_EQ(before[0].price, 950);
  a.spent_today = 14'400;  // 600 left: its click at 950 would be refused
  auto after = rank_eligible({a, b, c}, p);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].ad.campaign_id, 2);
  // Exactly the price left is still enough.
  a.spent_today = 15'000 - 950;
  EXPECT_EQ(rank_eligible({a, b, c}, p)[0].ad.campaign_id, 1);
  // The same for the balance and the total budget.
  a.spent_today = 0;
  a.balance = 949;
  EXPECT_EQ(rank_eligible({a, b, c}, p)[0].ad.campaign_id, 2);
  a.balance = 1'000'000;
  a.spent_total = a.total_budget - 949;
  EXPECT_EQ(rank_eligible({a, b, c}, p)[0].ad.campaign_id, 2);
}

TEST(Ranking, APausedCampaignReportedByItsLedgerLeaves) {
  ranking_params p;
  auto a = make(1, 1000);
  a.balance = a.daily_budget = a.total_budget = 1'000'000;
  std::vector<candidate> cs = {a};
  advertiser_money m;
  m.advertiser_id = 1;
  m.balance = 1'000'000;
  campaign_spend spend;
  spend.campaign_id = 1;
  spend.daily_budget = spend.total_budget = 1'000'000;
  spend.serving = false;
  m.campaigns = {spend};
  apply_money(cs, m);
  EXPECT_TRUE(rank_eligible(cs, p).empty());
}
