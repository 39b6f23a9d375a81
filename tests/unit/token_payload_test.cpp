#include "actors/token_payload.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

using namespace adserver;

namespace {

/// Claims in the order sign_token writes them, `extra` before the brace.
std::string claims(const std::string& extra = "") {
  return R"({"rid":"r-1","ad":"ad_7","cid":7,"aid":3,"pid":"P_SALE","opid":"P","price":1200,)"
         R"("bid":1500,"dev":"d-1","sid":"s-1","plc":"SEARCH","q":"\ub178\ud2b8\ubd81","cat":"",)"
         R"("exp":2000000000)" + extra + "}";
}

bool parses(const std::string& json) {
  token_claims c;
  return parse_token_payload(json, c);
}

}  // namespace

TEST(TokenPayload, ReadsEveryClaim) {
  token_claims c;
  ASSERT_TRUE(parse_token_payload(claims(R"(,"xk":"price_test","xv":"B")"), c));
  EXPECT_EQ(c.request_id, "r-1");
  EXPECT_EQ(c.ad_id, "ad_7");
  EXPECT_EQ(c.campaign_id, 7);
  EXPECT_EQ(c.advertiser_id, 3);
  EXPECT_EQ(c.product_id, "P_SALE");
  EXPECT_EQ(c.original_product_id, "P");
  EXPECT_EQ(c.price, 1200);
  EXPECT_EQ(c.bid, 1500);
  EXPECT_EQ(c.device_id, "d-1");
  EXPECT_EQ(c.session_id, "s-1");
  EXPECT_EQ(c.placement, "SEARCH");
  EXPECT_EQ(c.search_term, "노트북");  // from \u escapes
  EXPECT_EQ(c.category, "");
  EXPECT_EQ(c.expires_at, 2000000000);
  EXPECT_EQ(c.exp_key, "price_test");
  EXPECT_EQ(c.exp_var, "B");
}

TEST(TokenPayload, ReadsWhatAGeneralJsonWriterWritesInAnyKeyOrder) {
  // A general writer sorts keys and escapes differently; the claims are the same.
  auto j = nlohmann::json::parse(claims());
  j["dev"] = "quote\" backslash\\ tab\t 😀 é";
  token_claims c;
  ASSERT_TRUE(parse_token_payload(j.dump(), c));
  EXPECT_EQ(c.device_id, "quote\" backslash\\ tab\t 😀 é");
  EXPECT_EQ(c.search_term, "노트북");
  EXPECT_EQ(c.price, 1200);
  ASSERT_TRUE(parse_token_payload(j.dump(2), c));  // with white space
  EXPECT_EQ(c.campaign_id, 7);
}

TEST(TokenPayload, SurrogatePairsDecodeAndLoneHalvesAreRefused) {
  token_claims c;
  ASSERT_TRUE(parse_token_payload(claims(R"(,"xk":"\ud83d\ude00")"), c));
  EXPECT_EQ(c.exp_key, "😀");
  EXPECT_FALSE(parses(claims(R"(,"xk":"\ud83d")")));
  EXPECT_FALSE(parses(claims(R"(,"xk":"\ude00")")));
  EXPECT_FALSE(parses(claims(R"(,"xk":"\ud83dx")")));
}

TEST(TokenPayload, ANumberClaimMustBeAWholeInt64) {
  auto with_price = [](const std::string& v) {
    auto s = claims();
    return s.replace(s.find("1200"), 4, v);
  };
  EXPECT_TRUE(parses(with_price("-5")));
  EXPECT_TRUE(parses(with_price("9223372036854775807")));
  EXPECT_FALSE(parses(with_price("9223372036854775808")));
  EXPECT_FALSE(parses(with_price("1e300")));
  EXPECT_FALSE(parses(with_price("12.0")));
  EXPECT_FALSE(parses(with_price("012")));
  EXPECT_FALSE(parses(with_price("\"1200\"")));
  EXPECT_FALSE(parses(with_price("-")));
}

TEST(TokenPayload, MissingOrMistypedClaimsAndBrokenJsonAreRefused) {
  auto without = [](const std::string& member) {
    auto s = claims();
    return s.erase(s.find(member), member.size());
  };
  EXPECT_FALSE(parses(without(R"("rid":"r-1",)")));
  EXPECT_FALSE(parses(without(R"(,"exp":2000000000)")));
  EXPECT_FALSE(parses(claims(R"(,"cid":"7")")));  // a later duplicate of the wrong type
  EXPECT_FALSE(parses(claims() + "x"));
  EXPECT_FALSE(parses(claims().substr(0, 40)));
  EXPECT_FALSE(parses(claims(R"(,"nested":{"a":1})")));
  EXPECT_FALSE(parses(claims(R"(,"list":[1])")));
  EXPECT_FALSE(parses(claims(R"(,"raw":"line)" "\n" R"(")")));  // a control character
  EXPECT_FALSE(parses(claims(R"(,"bad":"\x")")));
  EXPECT_FALSE(parses(claims(",\"utf8\":\"\xff\"")));
  EXPECT_FALSE(parses("[]"));
  EXPECT_FALSE(parses(""));
  EXPECT_FALSE(parses(R"({"rid":"r-1",})"));
}

TEST(TokenPayload, UnknownMembersAreSkipped) {
  token_claims c;
  ASSERT_TRUE(parse_token_payload(
    claims(R"(,"v":2,"note":"x","on":true,"off":false,"none":null,"f":-1.5e3)"), c));
  EXPECT_EQ(c.bid, 1500);
}
