#include "actors/events.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

using namespace adserver;
using nlohmann::json;

namespace {

click_request sample_click() {
  click_request c;
  c.ad.request_id = "r-1";
  c.ad.ad_id = "ad_7";
  c.ad.campaign_id = 7;
  c.ad.advertiser_id = 3;
  c.ad.product_id = "P_SALE";
  c.ad.original_product_id = "P";
  c.ad.price = 1200;
  c.ad.bid = 1500;
  c.ad.device_id = "d-1";
  c.ad.placement = "SEARCH";
  c.ad.search_term = "노트북 \"15\"\\ \xff";  // quotes, a backslash, a stray byte
  c.ad.category = "";
  c.session_id = "s-1";
  c.click_time = "2026-12-07T10:00:00+09:00";
  return c;
}

}  // namespace

TEST(Events, ClickEventCarriesEverySeedFieldWithItsType) {
  click_result r;
  r.charged = true;
  r.amount = 1200;
  r.remaining_balance = -5;
  auto e = click_event(sample_click(), r, "2026-12-07T10:00:01.000+09:00");
  EXPECT_EQ(e.topic, "ad-events");
  EXPECT_EQ(e.key, "d-1");
  auto j = json::parse(e.payload);  // valid JSON despite the stray byte
  EXPECT_EQ(j.at("event_type"), "CLICK");
  EXPECT_EQ(j.at("timestamp"), "2026-12-07T10:00:01.000+09:00");
  EXPECT_EQ(j.at("device_id"), "d-1");
  EXPECT_EQ(j.at("session_id"), "s-1");
  EXPECT_EQ(j.at("ad_id"), "ad_7");
  EXPECT_EQ(j.at("campaign_id"), 7);
  EXPECT_EQ(j.at("advertiser_id"), 3);
  EXPECT_EQ(j.at("product_id"), "P_SALE");
  EXPECT_EQ(j.at("original_product_id"), "P");
  EXPECT_EQ(j.at("placement"), "SEARCH");
  EXPECT_EQ(j.at("bid_price"), 1500);
  EXPECT_EQ(j.at("actual_price"), 1200);
  EXPECT_EQ(j.at("search_term"), "노트북 \"15\"\\ \uFFFD");  // the stray byte repaired
  EXPECT_EQ(j.at("category"), "");
  EXPECT_EQ(j.at("request_id"), "r-1");
  EXPECT_EQ(j.at("balance_deducted"), true);
  EXPECT_EQ(j.at("charged_amount"), 1200);
  EXPECT_EQ(j.at("remaining_balance"), -5);
  EXPECT_EQ(j.at("click_time"), "2026-12-07T10:00:00+09:00");
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_FALSE(j.contains("exp_key"));
  EXPECT_EQ(j.size(), 19u);
}

TEST(Events, ARefusedClickSaysWhyAndAnExperimentNamesItsVariant) {
  auto c = sample_click();
  c.ad.exp_key = "price_test";
  c.ad.exp_var = "B";
  click_result r;
  r.reason = "DUPLICATE_CLICK";
  auto j = json::parse(click_event(c, r, "t").payload);
  EXPECT_EQ(j.at("balance_deducted"), false);
  EXPECT_EQ(j.at("reason"), "DUPLICATE_CLICK");
  EXPECT_EQ(j.at("exp_key"), "price_test");
  EXPECT_EQ(j.at("exp_var"), "B");
}

TEST(Events, ImpressionEventHasTheAdFieldsAndNoChargeFields) {
  auto c = sample_click();
  auto e = impression_event(c.ad, "s-9", "t");
  auto j = json::parse(e.payload);
  EXPECT_EQ(j.at("event_type"), "IMPRESSION");
  EXPECT_EQ(j.at("session_id"), "s-9");
  EXPECT_EQ(j.at("actual_price"), 1200);
  EXPECT_FALSE(j.contains("balance_deducted"));
  EXPECT_EQ(j.size(), 15u);
}
