#pragma once
// Ranking and pricing (SPEC.md "Ranking and pricing"), free of actors.
//   pCTR   = (clicks + m * baseline) / (impressions + m)   smoothed toward the
//            category baseline; m = prior_impressions (the campaign needs about
//            that many impressions before its own CTR dominates)
//   score  = bid * pCTR^alpha
//   price at rank n = min(bid_n, ceil(score_{n+1} / pCTR_n^alpha)), i.e. the
//            next ad's score translated into rank n's units (generalized
//            second price); the last ranked ad pays the reserve; never above
//            its own bid, never below the reserve unless its bid is.
#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

struct ranking_params {
  double alpha = 1.0;
  double prior_impressions = 1000.0;
  int64_t reserve_price = 10;  // won
};

struct candidate {
  int64_t campaign_id = 0;
  int64_t advertiser_id = 0;
  std::string product_id;
  int64_t bid = 0;  // won, for this placement
  int64_t impressions = 0;
  int64_t clicks = 0;
  double baseline_ctr = 0.01;  // defense:category:{level}:ctr
};

struct ranked_ad {
  candidate ad;
  double pctr = 0;
  double score = 0;
  int64_t price = 0;  // won charged per click
  int rank = 0;       // 1-based
};

double smoothed_ctr(int64_t impressions, int64_t clicks, double baseline,
                    double prior_impressions);

/// Orders candidates by score (ties: higher bid, then lower campaign id, so the
/// order is deterministic) and prices each.
std::vector<ranked_ad> rank_and_price(const std::vector<candidate>& candidates,
                                      const ranking_params& params);

/// Expected cost of showing an ad (price x pCTR), rounded up to whole won.
int64_t expected_cost(const ranked_ad& ad);

}  // namespace adserver
