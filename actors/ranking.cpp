#include "actors/ranking.hpp"

#include <algorithm>
#include <cmath>

namespace adserver {

double smoothed_ctr(int64_t impressions, int64_t clicks, double baseline,
                    double prior_impressions) {
  impressions = std::max<int64_t>(0, impressions);
  clicks = std::clamp<int64_t>(clicks, 0, impressions);
  baseline = std::clamp(baseline, 1e-6, 1.0);
  prior_impressions = std::max(1.0, prior_impressions);
  return (static_cast<double>(clicks) + prior_impressions * baseline)
         / (static_cast<double>(impressions) + prior_impressions);
}

std::vector<ranked_ad> rank_and_price(const std::vector<candidate>& candidates,
                                      const ranking_params& params) {
  std::vector<ranked_ad> out;
  out.reserve(candidates.size());
  for (auto& c : candidates) {
    if (c.bid <= 0)
      continue;
    ranked_ad r;
    r.ad = c;
    r.pctr = smoothed_ctr(c.impressions, c.clicks, c.baseline_ctr, params.prior_impressions);
    r.score = static_cast<double>(c.bid) * std::pow(r.pctr, params.alpha);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const ranked_ad& a, const ranked_ad& b) {
    if (a.score != b.score)
      return a.score > b.score;
    if (a.ad.bid != b.ad.bid)
      return a.ad.bid > b.ad.bid;
    return a.ad.campaign_id < b.ad.campaign_id;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    auto& r = out[i];
    r.rank = static_cast<int>(i + 1);
    int64_t price = params.reserve_price;
    if (i + 1 < out.size()) {
      // The bid at which this ad would just tie the next one's score.
      double units = std::pow(r.pctr, params.alpha);
      double next_in_my_units = out[i + 1].score / units;
      price = static_cast<int64_t>(std::ceil(next_in_my_units - 1e-9));
      price = std::max(price, params.reserve_price);
    }
    r.price = std::min(price, r.ad.bid);
  }
  return out;
}

int64_t expected_cost(const ranked_ad& ad) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(ad.price) * ad.pctr - 1e-9));
}

}  // namespace adserver
