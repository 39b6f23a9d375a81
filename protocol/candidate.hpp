#pragma once
// An auction candidate: a campaign's bid, money, statistics and targeting as
// storage/statements reads it for an auction and actors/ranking ranks it.
#include "protocol/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace adserver {

struct candidate {
  int64_t campaign_id = 0;
  int64_t advertiser_id = 0;
  std::string product_id;
  int64_t bid = 0;  // won, for this placement
  int64_t impressions = 0;
  int64_t clicks = 0;
  double baseline_ctr = 0.01;  // defense:category:{level}:ctr
  // Money, for eligibility.
  int64_t balance = 0;
  int64_t daily_budget = 0;
  int64_t spent_today = 0;
  int64_t total_budget = 0;
  int64_t spent_total = 0;
  bool serving = true;  // false once its ledger reports it paused, ended or deleted
  // Pacing (actors/pacing.hpp): STANDARD delivery, the campaign's bids on
  // every placement (whose traffic its budget is spread over) and that
  // traffic's hourly curve.
  bool standard_delivery = false;
  placement_bids bids_by_placement;
  std::vector<int64_t> traffic;
  /// Its pacing target at the last rank (STANDARD), and the expected cost
  /// (price x pCTR) of its ads served since its ledger last told its spend:
  /// clicks on them are spend the auction has not heard of yet.
  int64_t pacing_target = 0;
  int64_t pending_cost = 0;
  // Targeting.
  std::vector<std::string> categories;
  std::vector<std::string> keywords;
  std::string product_category;  // ad_products_meta.category of its product
};

}  // namespace adserver
