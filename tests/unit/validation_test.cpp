#include "actors/campaign_logic.hpp"
#include "actors/text_normalize.hpp"
#include "actors/validation.hpp"
#include "protocol/errors.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

using namespace adserver;

TEST(Validation, BusinessNumberFormat) {
  EXPECT_TRUE(is_business_number("123-45-67890"));
  EXPECT_FALSE(is_business_number("1234567890"));
  EXPECT_FALSE(is_business_number("123-45-6789"));
  EXPECT_FALSE(is_business_number("12a-45-67890"));
  EXPECT_FALSE(is_business_number("123-45-678901"));
}

TEST(Validation, Email) {
  EXPECT_TRUE(is_email("ads@example.co.kr"));
  EXPECT_FALSE(is_email("ads@"));
  EXPECT_FALSE(is_email("@example.com"));
  EXPECT_FALSE(is_email("a@b@example.com"));
  EXPECT_FALSE(is_email("a b@example.com"));
  EXPECT_FALSE(is_email("a@example"));
}

TEST(Validation, CalendarDates) {
  EXPECT_TRUE(is_calendar_date("2028-02-29"));
  EXPECT_FALSE(is_calendar_date("2027-02-29"));
  EXPECT_FALSE(is_calendar_date("2026-13-01"));
  EXPECT_FALSE(is_calendar_date("2026-1-01"));
}

TEST(Validation, AdvertiserNamesTheField) {
  advertiser_spec s{"Shop", "123-45-67890", "not-an-email", "RETAIL", 0};
  auto v = view(validate(s));
  EXPECT_EQ(v.code, ec::validation_failed);
  EXPECT_EQ(v.details_json, "{\"field\":\"email\"}");
  s.email = "shop@example.com";
  EXPECT_FALSE(validate(s));
  s.initial_balance = -1;
  EXPECT_EQ(view(validate(s)).details_json, "{\"field\":\"initial_balance\"}");
}

TEST(Validation, CampaignRules) {
  campaign_record c;
  c.advertiser_id = 1;
  c.campaign_name = "winter";
  c.product_id = "P1";
  c.start_date = "2026-12-01";
  c.end_date = "2026-12-31";
  c.daily_budget = 10000;
  c.total_budget = 100000;
  c.bids = {{"HOME", 500}};
  EXPECT_FALSE(validate_new_campaign(c, "2026-11-24"));
  c.end_date = "2026-11-30";
  EXPECT_EQ(view(validate_new_campaign(c, "2026-11-24")).details_json,
            "{\"field\":\"end_date\"}");
  c.end_date = "2026-12-31";
  c.daily_budget = 0;
  EXPECT_EQ(view(validate_new_campaign(c, "2026-11-24")).code, ec::validation_failed);
  c.daily_budget = 200000;
  EXPECT_EQ(view(validate_new_campaign(c, "2026-11-24")).details_json,
            "{\"field\":\"daily_budget\"}");
  c.daily_budget = 100;
  c.bids = {{"BANNER", 100}};
  EXPECT_EQ(view(validate_new_campaign(c, "2026-11-24")).code, ec::validation_failed);
  c.bids = {{"SEARCH", 100}};
  c.keywords = {"x"};
  EXPECT_EQ(view(validate_new_campaign(c, "2026-11-24")).details_json,
            "{\"field\":\"targeting.keywords\"}");
  c.keywords = {"노트북", "laptop"};
  EXPECT_FALSE(validate_new_campaign(c, "2026-11-24"));
}

TEST(CampaignLogic, Transitions) {
  EXPECT_EQ(*next_status("PENDING", "ACTIVE"), "ACTIVE");
  EXPECT_EQ(*next_status("ACTIVE", "PAUSED"), "PAUSED");
  EXPECT_EQ(*next_status("PAUSED", "ACTIVE"), "ACTIVE");
  EXPECT_EQ(*next_status("PAUSED", "ENDED"), "ENDED");
  EXPECT_EQ(*next_status("ACTIVE", "ACTIVE"), "ACTIVE");
  EXPECT_EQ(view(next_status("PENDING", "PAUSED").error()).code, ec::conflict);
  EXPECT_EQ(view(next_status("ENDED", "ACTIVE").error()).code, ec::conflict);
  EXPECT_EQ(view(next_status("ACTIVE", "PENDING").error()).code, ec::validation_failed);
}

TEST(Errors, HttpStatuses) {
  EXPECT_EQ(http_status(ec::validation_failed), 400);
  EXPECT_EQ(http_status(ec::unauthorized), 401);
  EXPECT_EQ(http_status(ec::reference_not_found), 404);
  EXPECT_EQ(http_status(ec::insufficient_balance), 409);
  EXPECT_EQ(http_status(ec::rate_limited), 429);
  EXPECT_EQ(http_status(ec::unavailable), 503);
}

TEST(Validation, Iso8601Timestamps) {
  EXPECT_TRUE(is_iso8601_timestamp("2026-11-24T10:30:00Z"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-11-24T10:30:00.123+09:00"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-11-24T23:59:59-05:30"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-11-24 10:30:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-11-24T10:30:00"));  // no zone
  EXPECT_FALSE(is_iso8601_timestamp("2026-02-30T10:30:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-11-24T24:00:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-11-24T10:30:00+0900"));
  EXPECT_FALSE(is_iso8601_timestamp("yesterday"));
  EXPECT_FALSE(is_iso8601_timestamp(""));
}

TEST(Validation, JsonQuoteEscapesWhatJsonRequires) {
  EXPECT_EQ(json_quote("plain 노트북"), "\"plain 노트북\"");
  EXPECT_EQ(json_quote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(json_quote(""), "\"\"");
  std::string out = "x";
  append_json_string(out, "\"");
  EXPECT_EQ(out, "x\"\\\"\"");
}

TEST(Validation, EveryByteAtEveryPlaceOfAWordIsQuotedAsJsonRequires) {
  // The quoting scans eight bytes at a time: each byte value at each place
  // of two words (and in a short tail) must come out as JSON reads it back.
  for (size_t length : {size_t{3}, size_t{16}, size_t{21}})
    for (size_t at = 0; at < length; ++at)
      for (int b = 0; b < 256; ++b) {
        std::string s(length, 'a');
        s[at] = static_cast<char>(b);
        std::string out = "[";
        append_json_string(out, s);
        out += "]";
        auto parsed = nlohmann::json::parse(out, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << "byte " << b << " at " << at << ": " << out;
        EXPECT_EQ(parsed[0].get<std::string>(), to_valid_utf8(s)) << "byte " << b << " at " << at;
        bool plain = b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
        EXPECT_EQ(out == "[\"" + s + "\"]", plain) << "byte " << b << " at " << at;
      }
}
