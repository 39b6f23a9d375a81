#include "actors/events.hpp"

#include <nlohmann/json.hpp>

namespace adserver {

namespace {

nlohmann::json ad_event_fields(const std::string& type, const token_claims& ad,
                               const std::string& session_id, const std::string& timestamp) {
  return {{"event_type", type},
          {"timestamp", timestamp},
          {"device_id", ad.device_id},
          {"session_id", session_id},
          {"ad_id", ad.ad_id},
          {"campaign_id", ad.campaign_id},
          {"advertiser_id", ad.advertiser_id},
          {"product_id", ad.product_id},
          {"placement", ad.placement},
          {"bid_price", ad.bid},
          {"actual_price", ad.price},
          {"search_term", ad.search_term},
          {"category", ad.category},
          {"request_id", ad.request_id},
          {"original_product_id", ad.original_product_id}};
}

}  // namespace

kafka_event impression_event(const token_claims& ad, const std::string& session_id,
                             const std::string& timestamp) {
  return {"ad-events", ad.device_id,
          ad_event_fields("IMPRESSION", ad, session_id, timestamp).dump()};
}

}  // namespace adserver
