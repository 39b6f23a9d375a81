// Price-experiment post-processing and slates: code swaps, dates, the
// session's remembered codes, and signing.
#include "actors/experiment_logic.hpp"
#include "actors/slate.hpp"
#include "actors/tracking_token.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {

const std::string secret = "unit-test-secret-0123456789abcdef0123";

experiment_mapping mapping(int64_t id, std::string original, std::string code,
                           std::string start = "2026-01-01", std::string end = "2026-12-31") {
  experiment_mapping m;
  m.id = id;
  m.exp_key = "price";
  m.exp_var = "B";
  m.original_product_id = std::move(original);
  m.experiment_product_id = std::move(code);
  m.start_date = std::move(start);
  m.end_date = std::move(end);
  return m;
}

std::vector<ranked_ad> ranked(std::vector<std::pair<int64_t, std::string>> ads) {
  std::vector<ranked_ad> out;
  for (auto& [campaign, product] : ads) {
    ranked_ad r;
    r.ad.campaign_id = campaign;
    r.ad.advertiser_id = 7;
    r.ad.product_id = product;
    r.ad.bid = 900;
    r.price = 600;
    r.rank = static_cast<int>(out.size()) + 1;
    out.push_back(r);
  }
  return out;
}

ad_request request(int64_t max_ads = 3) {
  ad_request req;
  req.request_id = "r-1";
  req.device_id = "3f2b8f0e-4a7c-4a57-9a1e-0c1d2e3f4a5b";
  req.session_id = "s-1";
  req.placement = "HOME";
  req.max_ads = max_ads;
  req.exp_key = "price";
  req.exp_var = "B";
  return req;
}

}  // namespace

TEST(Slate, TopAdsInRankOrderWithThePriceInTheClaims) {
  auto s = make_slate(ranked({{1, "P1"}, {2, "P2"}, {3, "P3"}}), request(2), 3600, 1000);
  ASSERT_EQ(s.ads.size(), 2u);
  EXPECT_EQ(s.ads[0].campaign_id, 1);
  EXPECT_EQ(s.ads[1].ad_id, "ad_2");
  EXPECT_EQ(s.ads[0].price, 600);
  EXPECT_EQ(s.ads[0].expires_at, 4600);
  EXPECT_EQ(s.ads[0].product_id, s.ads[0].original_product_id);
  auto served = sign_slate(s, secret);
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[1].rank, 2);
  EXPECT_FALSE(served[0].experiment_applied);
  auto claims = verify_token(served[0].token, secret, 1000);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->price, 600);
  EXPECT_EQ(claims->session_id, "s-1");
}

TEST(Experiment, SwapsMappedProductsInForceAndKeepsOriginals) {
  auto s = make_slate(ranked({{1, "P1"}, {2, "P2"}, {3, "P3"}}), request(), 3600, 1000);
  experiment_mappings ms = {mapping(1, "P1", "P1_SALE"),
                            mapping(2, "P3", "P3_OLD", "2025-01-01", "2025-12-31"),  // ended
                            mapping(3, "P2", "P2_SOON", "2027-01-01", "2027-12-31")};  // not yet
  auto swapped = apply_experiment(s, ms, "2026-11-24");
  ASSERT_EQ(swapped.size(), 1u);
  EXPECT_EQ(swapped["P1_SALE"], "P1");
  EXPECT_EQ(s.ads[0].product_id, "P1_SALE");
  EXPECT_EQ(s.ads[0].original_product_id, "P1");
  EXPECT_EQ(s.ads[1].product_id, "P2");
  EXPECT_EQ(s.ads[2].product_id, "P3");
  auto served = sign_slate(s, secret);
  EXPECT_TRUE(served[0].experiment_applied);
  EXPECT_FALSE(served[1].experiment_applied);
  // The served code travels in the signed token, with the original.
  auto claims = verify_token(served[0].token, secret, 1000);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->product_id, "P1_SALE");
  EXPECT_EQ(claims->original_product_id, "P1");
}

TEST(Experiment, DateBoundsAreInclusiveAndDeactivatedMappingsDoNotApply) {
  auto m = mapping(1, "P1", "X", "2026-11-24", "2026-11-24");
  EXPECT_TRUE(mapping_in_force(m, "2026-11-24"));
  EXPECT_FALSE(mapping_in_force(m, "2026-11-23"));
  EXPECT_FALSE(mapping_in_force(m, "2026-11-25"));
  m.audit.activated = false;
  EXPECT_FALSE(mapping_in_force(m, "2026-11-24"));
}

TEST(Experiment, OfOverlappingMappingsTheNewestWins) {
  auto s = make_slate(ranked({{1, "P1"}}), request(), 3600, 1000);
  auto swapped = apply_experiment(s, {mapping(9, "P1", "NEW"), mapping(4, "P1", "OLD")},
                                  "2026-11-24");
  EXPECT_EQ(s.ads[0].product_id, "NEW");
  EXPECT_EQ(swapped.size(), 1u);
}

TEST(Experiment, SessionCodesAccumulateAndExpireAfterTheirTtl) {
  session_mapping m;
  auto req = request();
  EXPECT_TRUE(remember_codes(m, req, {{"P1_SALE", "P1"}}, 1000, 86400));
  EXPECT_EQ(m.expires_at, 1000 + 86400);
  EXPECT_FALSE(remember_codes(m, req, {{"P1_SALE", "P1"}}, 2000, 86400));  // nothing new
  EXPECT_TRUE(remember_codes(m, req, {{"P2_SALE", "P2"}}, 3000, 86400));
  EXPECT_EQ(m.codes.size(), 2u);
  EXPECT_EQ(session_mapping_value(m), R"({"P1_SALE":"P1","P2_SALE":"P2"})");
  // After 24 h without change the old codes are gone.
  EXPECT_TRUE(remember_codes(m, req, {{"P3_SALE", "P3"}}, 3000 + 86400, 86400));
  EXPECT_EQ(m.codes.size(), 1u);
  EXPECT_EQ(m.codes.count("P3_SALE"), 1u);
}

TEST(Experiment, ASessionsRecordHoldsAtMostItsCapOfCodes) {
  session_mapping m;
  ad_request req;
  req.session_id = "s";
  req.exp_key = "k";
  req.exp_var = "B";
  EXPECT_TRUE(remember_codes(m, req, {{"A_X", "A"}, {"B_X", "B"}}, 1000, 86400, 2));
  EXPECT_FALSE(remember_codes(m, req, {{"C_X", "C"}}, 1001, 86400, 2));  // full: not taken
  EXPECT_EQ(m.codes.size(), 2u);
  EXPECT_EQ(m.codes.count("C_X"), 0u);
  // Expired, the record starts afresh and takes new codes again.
  EXPECT_TRUE(remember_codes(m, req, {{"C_X", "C"}}, 1000 + 86400, 86400, 2));
  EXPECT_EQ(m.codes.size(), 1u);
}

TEST(Experiment, SessionShardsAreStableAndSpread) {
  EXPECT_EQ(session_shard("s-1", 4), session_shard("s-1", 4));
  EXPECT_EQ(session_shard("anything", 1), 0u);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 400; ++i)
    ++counts[session_shard("session-" + std::to_string(i), 4)];
  for (int c : counts)
    EXPECT_GT(c, 50);
}
