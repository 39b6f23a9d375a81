#include "actors/tracking_token.hpp"
#include "protocol/errors.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {
const std::string secret = "unit-test-secret-0123456789abcdef0123";

token_claims sample() {
  token_claims c;
  c.request_id = "req-1";
  c.ad_id = "ad_100";
  c.campaign_id = 100;
  c.advertiser_id = 50;
  c.product_id = "SAMSUNG_NB_001_SALE";
  c.original_product_id = "SAMSUNG_NB_001";
  c.price = 1200;
  c.bid = 1500;
  c.device_id = "3f2b8f0e-4a7c-4a57-9a1e-0c1d2e3f4a5b";
  c.session_id = "s-1";
  c.placement = "SEARCH";
  c.search_term = "노트북";
  c.expires_at = 2000000000;
  return c;
}
}  // namespace

TEST(TrackingToken, RoundTrip) {
  auto t = sign_token(sample(), secret);
  auto c = verify_token(t, secret, 1900000000);
  ASSERT_TRUE(c) << to_code(view(c.error()).code);
  EXPECT_EQ(c->price, 1200);
  EXPECT_EQ(c->search_term, "노트북");
  EXPECT_EQ(c->original_product_id, "SAMSUNG_NB_001");
}

TEST(TrackingToken, TamperingIsDetected) {
  auto t = sign_token(sample(), secret);
  auto forged = sample();
  forged.price = 1;
  auto forged_payload = sign_token(forged, secret).substr(0, sign_token(forged, secret).find('.'));
  auto mixed = forged_payload + t.substr(t.find('.'));
  EXPECT_EQ(view(verify_token(mixed, secret, 0).error()).code, ec::invalid_token);
  auto flipped = t;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_token(flipped, secret, 0));
  EXPECT_FALSE(verify_token(t, "another-secret-0123456789abcdef0123", 0));
  EXPECT_FALSE(verify_token("", secret, 0));
  EXPECT_FALSE(verify_token("abc", secret, 0));
  EXPECT_FALSE(verify_token("a.b.c", secret, 0));
}

TEST(TrackingToken, ExpiredIsRejected) {
  auto t = sign_token(sample(), secret);
  EXPECT_FALSE(verify_token(t, secret, 2000000001));
}

TEST(TrackingToken, ExperimentAssignmentIsSignedWhenPresent) {
  auto c = sample();
  auto plain = verify_token(sign_token(c, secret), secret, 0);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->exp_key, "");
  c.exp_key = "price";
  c.exp_var = "B";
  auto token = sign_token(c, secret);
  auto back = verify_token(token, secret, 0);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->exp_key, "price");
  EXPECT_EQ(back->exp_var, "B");
}

TEST(TrackingToken, RoundTripsEveryPayloadLength) {
  auto c = sample();
  for (int extra = 0; extra < 6; ++extra) {
    c.product_id = "P" + std::string(extra, 'x') + "\"quoted\" \\ 노트북";
    auto back = verify_token(sign_token(c, secret), secret, 0);
    ASSERT_TRUE(back) << extra;
    EXPECT_EQ(back->product_id, c.product_id);
  }
}

// RFC 4231 test cases 1 and 2, and a second secret on the same thread: the
// per-thread context must be re-keyed, not reused.
TEST(TrackingToken, HmacSha256MatchesRfc4231) {
  auto hex = [](const std::string& raw) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
      out += digits[c >> 4];
      out += digits[c & 15];
    }
    return out;
  };
  const std::string key1(20, '\x0b');
  EXPECT_EQ(hex(hmac_sha256("Hi There", key1)),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(hmac_sha256("what do ya want for nothing?", "Jefe")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(hmac_sha256("Hi There", key1)),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // The hot path: the same key again and again (the context is reset, not
  // re-keyed).
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(hex(hmac_sha256("what do ya want for nothing?", "Jefe")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
