#pragma once
// The signed tracking token returned with each ad. The auction price travels
// inside it, so impression/click/conversion calls cannot forge a click or
// change its price. Format: base64url(JSON claims) "." base64url(HMAC-SHA256).
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace adserver {

struct token_claims {
  std::string request_id;
  std::string ad_id;
  int64_t campaign_id = 0;
  int64_t advertiser_id = 0;
  std::string product_id;           // as served (experiment code where mapped)
  std::string original_product_id;
  int64_t price = 0;                // won charged per click (auction price)
  int64_t bid = 0;
  std::string device_id;
  std::string session_id;
  std::string placement;
  std::string search_term;
  std::string category;
  int64_t expires_at = 0;           // unix seconds
};

std::string sign_token(const token_claims& claims, const std::string& secret);

/// The claims of a token signed with `secret` and not expired at `now`
/// (unix seconds); otherwise INVALID_TOKEN.
caf::expected<token_claims> verify_token(const std::string& token, const std::string& secret,
                                         int64_t now);

}  // namespace adserver
