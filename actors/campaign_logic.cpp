#include "actors/campaign_logic.hpp"

#include <algorithm>

#include "actors/validation.hpp"
#include "protocol/errors.hpp"

namespace adserver {

bool is_campaign_status(const std::string& s) {
  return s == "PENDING" || s == "ACTIVE" || s == "PAUSED" || s == "ENDED";
}

caf::expected<std::string> next_status(const std::string& current,
                                       const std::string& requested) {
  if (requested != "ACTIVE" && requested != "PAUSED" && requested != "ENDED")
    return validation_error("status", "status must be ACTIVE, PAUSED or ENDED");
  if (requested == current)
    return current;
  bool allowed = (requested == "ACTIVE" && (current == "PENDING" || current == "PAUSED"))
                 || (requested == "PAUSED" && current == "ACTIVE")
                 || (requested == "ENDED" && current != "ENDED");
  if (!allowed)
    return make_error(ec::conflict,
                      "a campaign in status " + current + " cannot become " + requested,
                      "{\"status\":" + json_quote(current) + ",\"requested\":"
                        + json_quote(requested) + "}");
  return requested;
}

campaign_spend campaign_limits(const campaign_record& c, const std::string& today) {
  campaign_spend limits;
  limits.campaign_id = c.id;
  limits.daily_budget = c.daily_budget;
  limits.total_budget = c.total_budget;
  limits.day = today;
  limits.serving = c.status == "ACTIVE" && c.audit.activated;
  limits.start_date = c.start_date;
  limits.end_date = c.end_date;
  limits.standard_delivery = c.delivery == "STANDARD";
  for (auto& [placement, bid] : c.bids)
    limits.max_bid = std::max(limits.max_bid, bid);
  return limits;
}

}  // namespace adserver
