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
#include "protocol/candidate.hpp"
#include "protocol/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

struct ranking_params {
  double alpha = 1.0;
  double prior_impressions = 1000.0;
  int64_t reserve_price = 10;  // won
  double baseline_ctr = 0.01;  // where no category baseline is set in Redis
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

/// "a/b" targets "a/b" and "a/b/c" but not "a/bc".
bool category_matches(const std::string& targeted, const std::string& requested);

/// Does the campaign target this request? HOME and PRODUCT_DETAIL: every
/// campaign with a bid there; CATEGORY: one of its categories matches;
/// SEARCH: one of its (normalized) keywords equals the normalized term.
bool targets(const candidate& c, const std::string& placement, const std::string& category,
             const std::string& search_term);

/// Can the campaign pay its next click at `price`: balance >= price, spent
/// today + price <= daily budget, spent total + price <= total budget.
bool can_pay_click(const candidate& c, int64_t price);

/// Ranks and prices the candidates that can pay their next click at their
/// price here (can_pay_click). Prices depend on who is ranked, so ineligible
/// ads are removed and the rest re-ranked until every ranked ad is eligible.
std::vector<ranked_ad> rank_eligible(std::vector<candidate> candidates,
                                     const ranking_params& params);

/// Applies an advertiser's current money to its candidates (drops them when
/// the advertiser is no longer active); true when any candidate changed.
bool apply_money(std::vector<candidate>& candidates, const advertiser_money& money);

/// Redis keys of the CTR baselines for a category path, most specific first:
/// "a/b" -> defense:category:a/b:ctr, defense:category:a:ctr.
std::vector<std::string> baseline_keys(const std::string& category);

/// The first value of `values` (aligned with `keys`) that is a CTR in (0, 1];
/// `fallback` when none is.
double pick_baseline(const std::vector<std::string>& values, double fallback);

/// Expected cost of showing an ad (price x pCTR), rounded up to whole won.
int64_t expected_cost(const ranked_ad& ad);

}  // namespace adserver
