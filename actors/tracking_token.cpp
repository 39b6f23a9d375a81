#include "actors/tracking_token.hpp"

#include "actors/token_payload.hpp"
#include "actors/validation.hpp"
#include "protocol/errors.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace adserver {

namespace {

const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the unpadded base64url of `n` bytes at `p` to `out`.
void append_b64url(std::string& out, const unsigned char* p, size_t n) {
  auto start = out.size();
  out.resize(start + (n * 4 + 2) / 3);
  auto* o = out.data() + start;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
    *o++ = alphabet[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = p[i] << 16;
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
  } else if (i + 2 == n) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
  }
}

/// Each character's 6 bits, or -1 outside the base64url alphabet.
struct b64url_table {
  int8_t value[256];
  b64url_table() {
    for (auto& v : value)
      v = -1;
    for (int k = 0; k < 64; ++k)
      value[static_cast<unsigned char>(alphabet[k])] = static_cast<int8_t>(k);
  }
};

bool b64url_decode(std::string_view in, std::string& out) {
  static const b64url_table table;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    auto v = table.value[c];
    if (v < 0)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return in.size() % 4 != 1;
}

caf::error invalid(const std::string& why) {
  return make_error(ec::invalid_token, "invalid tracking token: " + why);
}

/// An HMAC-SHA256 context keyed once per thread and secret. OpenSSL 3's
/// one-shot HMAC() fetches the algorithm and builds a context on every call,
/// which cost a tenth of the ad path's CPU (three tokens per answer).
class keyed_hmac {
public:
  ~keyed_hmac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }

  /// Ready for a new message under `secret`; false when OpenSSL refused.
  bool start(const std::string& secret) {
    if (ctx_ && secret == key_)
      return EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;  // same key, reset
    EVP_MAC_CTX_free(ctx_);
    ctx_ = nullptr;
    key_.clear();
    if (!mac_ && !(mac_ = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr)))
      return false;
    if (!(ctx_ = EVP_MAC_CTX_new(mac_)))
      return false;
    char digest[] = OSSL_DIGEST_NAME_SHA2_256;
    OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    if (EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     params)
        != 1)
      return false;
    key_ = secret;
    return true;
  }

  EVP_MAC_CTX* ctx() const { return ctx_; }

private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
};

/// HMAC-SHA256 of `n` bytes at `data` into `mac` (32 bytes); false when
/// OpenSSL refused.
bool hmac_into(const char* data, size_t n, const std::string& secret,
               unsigned char (&mac)[EVP_MAX_MD_SIZE], size_t& len) {
  thread_local keyed_hmac h;
  return h.start(secret)
         && EVP_MAC_update(h.ctx(), reinterpret_cast<const unsigned char*>(data), n) == 1
         && EVP_MAC_final(h.ctx(), mac, &len, sizeof mac) == 1;
}

}  // namespace

std::string hmac_sha256(const std::string& data, const std::string& secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!hmac_into(data.data(), data.size(), secret, mac, len))
    return {};  // never verifies (verify_token refuses an empty MAC)
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string sign_token(const token_claims& c, const std::string& secret) {
  // Built by hand into one buffer per thread: a token per served ad makes
  // this the hot path's main cost.
  thread_local std::string j;
  j.clear();
  // Each key comes with its punctuation as one literal (`{"rid":`, `,"ad":`),
  // appended with its length known at compile time.
  auto text = [&](const auto& key, const std::string& v) {
    j.append(key, sizeof key - 1);
    append_json_string(j, v);
  };
  auto number = [&](const auto& key, int64_t v) {
    j.append(key, sizeof key - 1);
    char digits[24];
    j.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
  };
  text("{\"rid\":", c.request_id);
  text(",\"ad\":", c.ad_id);
  number(",\"cid\":", c.campaign_id);
  number(",\"aid\":", c.advertiser_id);
  text(",\"pid\":", c.product_id);
  text(",\"opid\":", c.original_product_id);
  number(",\"price\":", c.price);
  number(",\"bid\":", c.bid);
  text(",\"dev\":", c.device_id);
  text(",\"sid\":", c.session_id);
  text(",\"plc\":", c.placement);
  text(",\"q\":", c.search_term);
  text(",\"cat\":", c.category);
  number(",\"exp\":", c.expires_at);
  if (!c.exp_key.empty()) {  // only in experiment requests: tokens stay short
    text(",\"xk\":", c.exp_key);
    text(",\"xv\":", c.exp_var);
  }
  j += '}';
  std::string token;
  token.reserve((j.size() * 4 + 2) / 3 + 1 + 43);
  append_b64url(token, reinterpret_cast<const unsigned char*>(j.data()), j.size());
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!hmac_into(token.data(), token.size(), secret, mac, len))
    len = 0;  // an empty signature never verifies
  token += '.';
  append_b64url(token, mac, len);
  return token;
}

caf::expected<token_claims> verify_token(const std::string& token, const std::string& secret,
                                         int64_t now) {
  if (token.size() > 4096)
    return invalid("too long");
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0)
    return invalid("malformed");
  thread_local std::string presented;
  if (!b64url_decode(std::string_view(token).substr(dot + 1), presented))
    return invalid("malformed signature");
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!hmac_into(token.data(), dot, secret, mac, len) || presented.size() != len
      || CRYPTO_memcmp(presented.data(), mac, len) != 0)
    return invalid("bad signature");
  thread_local std::string text;
  if (!b64url_decode(std::string_view(token).substr(0, dot), text))
    return invalid("malformed payload");
  token_claims c;
  if (!parse_token_payload(text, c))
    return invalid("malformed payload or missing claims");
  if (c.expires_at < now)
    return invalid("expired");
  return c;
}

}  // namespace adserver
