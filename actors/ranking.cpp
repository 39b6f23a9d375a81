#include "actors/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

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

bool category_matches(const std::string& targeted, const std::string& requested) {
  if (targeted.empty() || requested.size() < targeted.size())
    return false;
  if (requested.compare(0, targeted.size(), targeted) != 0)
    return false;
  return requested.size() == targeted.size() || requested[targeted.size()] == '/';
}

bool targets(const candidate& c, const std::string& placement, const std::string& category,
             const std::string& search_term) {
  if (placement == "CATEGORY") {
    for (auto& t : c.categories)
      if (category_matches(t, category))
        return true;
    return false;
  }
  if (placement == "SEARCH") {
    for (auto& k : c.keywords)
      if (k == search_term)
        return true;
    return false;
  }
  return true;
}

bool can_pay_click(const candidate& c, int64_t price) {
  return c.serving && c.balance >= price && c.spent_today + price <= c.daily_budget
         && c.spent_total + price <= c.total_budget;
}

std::vector<ranked_ad> rank_eligible(std::vector<candidate> candidates,
                                     const ranking_params& params) {
  for (;;) {
    auto ranked = rank_and_price(candidates, params);
    std::vector<candidate> keep;
    for (auto& r : ranked) {
      // The next click costs the auction price: an ad whose click would be
      // refused (over a budget, over the balance) must not hold the slot.
      if (can_pay_click(r.ad, r.price))
        keep.push_back(r.ad);
    }
    if (keep.size() == ranked.size())
      return ranked;
    candidates = std::move(keep);
  }
}

int64_t expected_cost(const ranked_ad& ad) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(ad.price) * ad.pctr - 1e-9));
}

bool apply_money(std::vector<candidate>& candidates, const advertiser_money& money) {
  bool changed = false;
  if (!money.active) {
    auto before = candidates.size();
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const candidate& c) {
                                      return c.advertiser_id == money.advertiser_id;
                                    }),
                     candidates.end());
    return candidates.size() != before;
  }
  for (auto& c : candidates) {
    if (c.advertiser_id != money.advertiser_id)
      continue;
    c.balance = money.balance;
    for (auto& spend : money.campaigns)
      if (spend.campaign_id == c.campaign_id) {
        c.pending_cost = 0;  // the ledger's spend now counts what was clicked
        c.serving = spend.serving;
        c.spent_today = spend.spent_today;
        c.spent_total = spend.spent_total;
        c.daily_budget = spend.daily_budget;
        c.total_budget = spend.total_budget;
      }
    changed = true;
  }
  return changed;
}

std::vector<std::string> baseline_keys(const std::string& category) {
  std::vector<std::string> out;
  auto path = category;
  while (!path.empty()) {
    out.push_back("defense:category:" + path + ":ctr");
    auto slash = path.rfind('/');
    path = slash == std::string::npos ? std::string{} : path.substr(0, slash);
  }
  return out;
}

double pick_baseline(const std::vector<std::string>& values, double fallback) {
  for (auto& v : values) {
    if (v.empty())
      continue;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (end != v.c_str() && *end == '\0' && std::isfinite(x) && x > 0 && x <= 1)
      return x;
  }
  return fallback;
}

}  // namespace adserver
