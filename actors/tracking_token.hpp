#pragma once
// The signed tracking token returned with each ad. The auction price travels
// inside it, so impression/click/conversion calls cannot forge a click or
// change its price. Format: base64url(JSON claims) "." base64url(HMAC-SHA256).
#include "protocol/records.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace adserver {

/// HMAC-SHA256 of `data` under `secret` (raw 32 bytes; empty if OpenSSL fails).
std::string hmac_sha256(const std::string& data, const std::string& secret);

std::string sign_token(const token_claims& claims, const std::string& secret);

/// The claims of a token signed with `secret` and not expired at `now`
/// (unix seconds); otherwise INVALID_TOKEN.
caf::expected<token_claims> verify_token(const std::string& token, const std::string& secret,
                                         int64_t now);

}  // namespace adserver
