#pragma once
// Event bodies for Kafka, field by field as in seed 000.
#include "actors/tracking_token.hpp"
#include "protocol/records.hpp"

namespace adserver {

/// IMPRESSION to ad-events, keyed by device_id.
kafka_event impression_event(const token_claims& ad, const std::string& session_id,
                             const std::string& timestamp);

/// CLICK to ad-events, keyed by device_id, with the charge outcome.
kafka_event click_event(const click_request& click, const click_result& result,
                        const std::string& timestamp);

/// One conversion-events record per product, keyed by device_id.
kafka_event conversion_event(const conversion_request& req, const conversion_line& line,
                             int64_t attribution_window_hours, const std::string& timestamp);

/// The same happenings for the campaign's dashboard window.
dashboard_event impression_dashboard_event(const token_claims& ad, int64_t at_ms);
dashboard_event click_dashboard_event(const click_request& click, const click_result& result,
                                      int64_t at_ms);
dashboard_event conversion_dashboard_event(const conversion_request& req,
                                           const conversion_line& line, int64_t at_ms);

}  // namespace adserver
