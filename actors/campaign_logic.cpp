#include "actors/campaign_logic.hpp"

#include "actors/errors.hpp"
#include "actors/validation.hpp"

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

}  // namespace adserver
