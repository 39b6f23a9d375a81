#include "actors/slate.hpp"

#include "actors/tracking_token.hpp"

namespace adserver {

slate make_slate(const std::vector<ranked_ad>& ranked, const ad_request& req,
                 int64_t token_ttl_seconds, int64_t now) {
  slate out;
  out.request = req;
  for (auto& r : ranked) {
    if (static_cast<int64_t>(out.ads.size()) >= req.max_ads)
      break;
    token_claims c;
    c.request_id = req.request_id;
    c.ad_id = "ad_" + std::to_string(r.ad.campaign_id);
    c.campaign_id = r.ad.campaign_id;
    c.advertiser_id = r.ad.advertiser_id;
    c.product_id = r.ad.product_id;
    c.original_product_id = r.ad.product_id;
    c.price = r.price;
    c.bid = r.ad.bid;
    c.device_id = req.device_id;
    c.session_id = req.session_id;
    c.placement = req.placement;
    c.search_term = req.search_term;
    c.category = req.category;
    c.expires_at = now + token_ttl_seconds;
    c.exp_key = req.exp_key;
    c.exp_var = req.exp_var;
    out.ads.push_back(std::move(c));
  }
  return out;
}

served_ads sign_slate(const slate& s, const std::string& secret) {
  served_ads out;
  out.reserve(s.ads.size());
  for (auto& c : s.ads) {
    served_ad ad;
    ad.product_id = c.product_id;
    ad.original_product_id = c.original_product_id;
    ad.ad_id = c.ad_id;
    ad.campaign_id = c.campaign_id;
    ad.rank = static_cast<int64_t>(out.size()) + 1;
    ad.experiment_applied = c.product_id != c.original_product_id;
    ad.token = sign_token(c, secret);
    out.push_back(std::move(ad));
  }
  return out;
}

}  // namespace adserver
