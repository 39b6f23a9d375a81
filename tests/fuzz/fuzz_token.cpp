// libFuzzer: the tracking-token parser. The input is tried as a whole token
// (forged or mangled: refused, never a crash) and as the claims of a token
// signed with the secret, so the claims decoder behind the signature check
// is reached too.
#include "actors/tracking_token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace adserver;

namespace {

std::string b64url(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out += abc[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
  }
  return out;
}

std::string signed_token(const std::string& claims_json, const std::string& secret) {
  auto payload = b64url(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return payload + "." + b64url(std::string(reinterpret_cast<char*>(mac), len));
}

bool same_claims(const token_claims& a, const token_claims& b) {
  return a.request_id == b.request_id && a.ad_id == b.ad_id && a.campaign_id == b.campaign_id
         && a.advertiser_id == b.advertiser_id && a.product_id == b.product_id
         && a.original_product_id == b.original_product_id && a.price == b.price
         && a.bid == b.bid && a.device_id == b.device_id && a.session_id == b.session_id
         && a.placement == b.placement && a.search_term == b.search_term
         && a.category == b.category && a.expires_at == b.expires_at && a.exp_key == b.exp_key
         && a.exp_var == b.exp_var;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string secret = "fuzz-secret-0123456789abcdef-0123456789";
  std::string input(reinterpret_cast<const char*>(data), size);
  verify_token(input, secret, 0);
  auto claims = verify_token(signed_token(input, secret), secret, 0);
  if (claims) {
    // What verifies signs and verifies again to the same claims.
    auto again = verify_token(sign_token(*claims, secret), secret, 0);
    if (!again || !same_claims(*again, *claims))
      __builtin_trap();
  }
  return 0;
}
