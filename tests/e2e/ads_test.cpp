// Ad serving and impressions through HTTP: auctions, second price, signed
// tokens, targeting, re-ranking on changes, IMPRESSION events in Kafka.
#include "actors/tracking_token.hpp"
#include "protocol/errors.hpp"
#include "storage/redis_connection.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

const std::string device = "3f2b8f0e-4a7c-4a57-9a1e-0c1d2e3f4a5b";
const std::string secret = "test-hmac-secret-0123456789abcdef-0123456789";

class Ads : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new server_process({{"security.hmac_secret", secret},
                                 {"ads.stats_refresh_seconds", "1"}});
    ASSERT_TRUE(server->start()) << server->output();
  }
  static void TearDownTestSuite() {
    delete server;
  }

  struct setup {
    int64_t advertiser = 0;
    int64_t high = 0;  // bids 900
    int64_t low = 0;   // bids 600
    std::string term;  // a keyword only these campaigns have
    std::string category;
    std::string product;  // both campaigns advertise it
  };

  static setup make_two_campaigns() {
    setup s;
    auto suffix = unique_suffix();
    s.term = "term" + suffix;
    s.category = "cat" + suffix + "/computers";
    auto adv = server->admin("POST", "/admin/v1/advertisers",
                             json{{"advertiser_name", "Ads"},
                                  {"business_number", unique_business_number()},
                                  {"email", "ads@test.example"},
                                  {"business_type", "RETAIL"},
                                  {"initial_balance", 100000}}
                               .dump());
    EXPECT_EQ(adv.status, 201) << adv.body;
    s.advertiser = adv.json["id"];
    auto pid = "AD_" + suffix;
    s.product = pid;
    EXPECT_EQ(server->admin("POST", "/admin/v1/products",
                            json{{"product_id", pid}, {"product_name", "p"}, {"category", s.category}}
                              .dump())
                .status,
              201);
    for (int64_t bid : {900, 600}) {
      auto c = server->admin("POST", "/admin/v1/campaigns",
                             json{{"advertiser_id", s.advertiser},
                                  {"campaign_name", "c"},
                                  {"product_id", pid},
                                  {"start_date", "2026-01-01"},
                                  {"end_date", "2099-01-01"},
                                  {"daily_budget", 50000}, {"delivery", "ACCELERATED"},
                                  {"total_budget", 90000},
                                  {"targeting",
                                   {{"categories", {s.category}}, {"keywords", {"  " + s.term + " "}}}},
                                  {"bids", {{"SEARCH", bid}, {"CATEGORY", bid}}}}
                               .dump());
      EXPECT_EQ(c.status, 201) << c.body;
      int64_t id = c.json["id"];
      EXPECT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(id) + "/status",
                              R"({"status":"ACTIVE"})")
                  .status,
                200);
      (bid == 900 ? s.high : s.low) = id;
    }
    return s;
  }

  static int64_t new_advertiser(int64_t balance, const server_process* on = nullptr) {
    auto adv = (on ? *on : *server).admin("POST", "/admin/v1/advertisers",
                                         json{{"advertiser_name", "Ads"},
                                              {"business_number", unique_business_number()},
                                              {"email", "ads@test.example"},
                                              {"business_type", "RETAIL"},
                                              {"initial_balance", balance}}
                                           .dump());
    EXPECT_EQ(adv.status, 201) << adv.body;
    return adv.json.value("id", int64_t{0});
  }

  static void new_product(const std::string& product_id, const std::string& category,
                          const server_process* on = nullptr) {
    auto r = (on ? *on : *server).admin(
      "POST", "/admin/v1/products",
      json{{"product_id", product_id}, {"product_name", "p"}, {"category", category}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
  }

  /// An ACTIVE campaign bidding `bid` on SEARCH for `keyword`.
  static int64_t new_search_campaign(int64_t advertiser, const std::string& product,
                                     const std::string& keyword, int64_t bid,
                                     const server_process* on = nullptr) {
    auto& s = on ? *on : *server;
    auto c = s.admin("POST", "/admin/v1/campaigns",
                     json{{"advertiser_id", advertiser},
                          {"campaign_name", "c"},
                          {"product_id", product},
                          {"start_date", "2026-01-01"},
                          {"end_date", "2099-01-01"},
                          {"daily_budget", 50000}, {"delivery", "ACCELERATED"},
                          {"total_budget", 90000},
                          {"targeting", {{"keywords", {keyword}}}},
                          {"bids", {{"SEARCH", bid}}}}
                       .dump());
    EXPECT_EQ(c.status, 201) << c.body;
    int64_t id = c.json.value("id", int64_t{0});
    EXPECT_EQ(s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(id) + "/status",
                      R"({"status":"ACTIVE"})")
                .status,
              200);
    return id;
  }

  static http_result request(json body) {
    return server->call("POST", "/api/v1/ads/request", body.dump());
  }

  static json search(const std::string& term, int max_ads = 3) {
    auto r = request({{"device_id", device}, {"session_id", "s-1"}, {"placement", "SEARCH"},
                      {"search_term", term}, {"max_ads", max_ads}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }

  static server_process* server;
};

server_process* Ads::server = nullptr;

TEST_F(Ads, SearchRanksByScoreAndPricesBySecondPrice) {
  auto s = make_two_campaigns();
  // Upper case and extra spaces normalize to the stored keyword.
  std::string shouting = "  " + s.term + "  ";
  for (auto& ch : shouting)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto res = search(shouting);
  ASSERT_EQ(res["ads"].size(), 2u) << res.dump();
  EXPECT_FALSE(res["request_id"].get<std::string>().empty());
  auto& first = res["ads"][0];
  auto& second = res["ads"][1];
  EXPECT_EQ(first["campaign_id"], s.high);
  EXPECT_EQ(first["rank"], 1);
  EXPECT_EQ(second["campaign_id"], s.low);
  EXPECT_EQ(first["experiment_applied"], false);
  EXPECT_EQ(first["product_id"], first["original_product_id"]);
  auto c1 = adserver::verify_token(first["token"], secret, 0);
  auto c2 = adserver::verify_token(second["token"], secret, 0);
  ASSERT_TRUE(c1 && c2);
  EXPECT_EQ(c1->price, 600);  // same pCTR: the next ad's bid
  EXPECT_EQ(c1->bid, 900);
  EXPECT_EQ(c2->price, 10);   // last ranked: the reserve
  EXPECT_EQ(c1->device_id, device);
  EXPECT_EQ(c1->search_term, s.term);
  EXPECT_EQ(search(s.term, 1)["ads"].size(), 1u);
  // The ranked list is mirrored to Redis as rtb:{placement}:{term}.
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(rc.run({"ZREVRANGE", "rtb:SEARCH:" + s.term, "0", "-1"}, rep, err)) << err;
    if (rep.elements.size() == 2)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(rep.elements.size(), 2u);
  EXPECT_EQ(rep.elements[0], std::to_string(s.high));
  EXPECT_EQ(rep.elements[1], std::to_string(s.low));
}

TEST_F(Ads, RequestIdsAreTimeOrderedUuids) {
  // UUID version 7: the charged-token index grows at its right edge.
  auto s = make_two_campaigns();
  auto first = search(s.term)["request_id"].get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  auto second = search(s.term)["request_id"].get<std::string>();
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  for (auto& id : {first, second}) {
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    auto ms = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    EXPECT_LE(ms, before) << id;
    EXPECT_GT(ms, before - 60000) << id;
  }
  EXPECT_LT(first, second);
}

TEST_F(Ads, CategoryHierarchyMatchesDescendantsOnly) {
  auto s = make_two_campaigns();
  auto r = request({{"device_id", device}, {"session_id", "s"}, {"placement", "CATEGORY"},
                    {"category", s.category + "/laptops"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["ads"].size(), 2u);
  auto parent = s.category.substr(0, s.category.find('/'));
  r = request({{"device_id", device}, {"session_id", "s"}, {"placement", "CATEGORY"},
               {"category", parent}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["ads"].size(), 0u);
}

TEST_F(Ads, ChangesReRankAtOnce) {
  auto s = make_two_campaigns();
  ASSERT_EQ(search(s.term)["ads"].size(), 2u);
  ASSERT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(s.high) + "/status",
                          R"({"status":"PAUSED"})")
              .status,
            200);
  auto res = search(s.term);
  ASSERT_EQ(res["ads"].size(), 1u);
  EXPECT_EQ(res["ads"][0]["campaign_id"], s.low);
  // Alone now: pays the reserve.
  EXPECT_EQ(adserver::verify_token(res["ads"][0]["token"], secret, 0)->price, 10);
  // An advertiser who cannot pay the expected cost leaves the ranking.
  ASSERT_EQ(server->admin("PUT", "/admin/v1/advertisers/" + std::to_string(s.advertiser) + "/balance",
                          R"({"action":"deduct","amount":100000})")
              .status,
            200);
  EXPECT_EQ(search(s.term)["ads"].size(), 0u);
  // A top-up brings it back at once.
  ASSERT_EQ(server->admin("PUT", "/admin/v1/advertisers/" + std::to_string(s.advertiser) + "/balance",
                          R"({"action":"charge","amount":5000})")
              .status,
            200);
  EXPECT_EQ(search(s.term)["ads"].size(), 1u);
  // So does resuming the paused campaign; new bids re-price at once.
  ASSERT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(s.high) + "/status",
                          R"({"status":"ACTIVE"})")
              .status,
            200);
  ASSERT_EQ(server->admin("PUT", "/admin/v1/campaigns/" + std::to_string(s.high) + "/bids",
                          R"({"SEARCH":700})")
              .status,
            200);
  res = search(s.term);
  ASSERT_EQ(res["ads"].size(), 2u);
  EXPECT_EQ(res["ads"][0]["campaign_id"], s.high);
  EXPECT_EQ(adserver::verify_token(res["ads"][0]["token"], secret, 0)->price, 600);
  EXPECT_EQ(adserver::verify_token(res["ads"][0]["token"], secret, 0)->bid, 700);
  // Deleting the advertiser takes all its campaigns out.
  ASSERT_EQ(server->admin("DELETE", "/admin/v1/advertisers/" + std::to_string(s.advertiser)).status,
            200);
  EXPECT_EQ(search(s.term)["ads"].size(), 0u);
}

TEST_F(Ads, ImpressionVerifiesTheTokenAndPublishes) {
  auto s = make_two_campaigns();
  auto ad = search(s.term)["ads"][0];
  std::string token = ad["token"];
  auto r = server->call("POST", "/api/v1/ads/impression",
                        json{{"token", token}, {"device_id", device}, {"session_id", "s-1"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto tampered = token;
  tampered[tampered.size() / 3] = tampered[tampered.size() / 3] == 'A' ? 'B' : 'A';
  r = server->call("POST", "/api/v1/ads/impression",
                   json{{"token", tampered}, {"device_id", device}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "INVALID_TOKEN");
  r = server->call("POST", "/api/v1/ads/impression",
                   json{{"token", token}, {"device_id", "00000000-0000-0000-0000-000000000000"}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"]["code"], "INVALID_TOKEN");

  json event;
  for (int attempt = 0; attempt < 50 && event.is_null(); ++attempt) {
    for (auto& [key, j] : read_topic(server->kafka_bootstrap(), "ad-events"))
      if (j.value("campaign_id", int64_t{0}) == ad["campaign_id"]) {
        EXPECT_EQ(key, device);  // keyed by device_id
        event = j;
      }
    if (event.is_null())
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(event.is_null());
  EXPECT_EQ(event["event_type"], "IMPRESSION");
  for (auto field : {"timestamp", "device_id", "session_id", "ad_id", "campaign_id",
                     "advertiser_id", "product_id", "placement", "bid_price", "actual_price",
                     "search_term", "category"})
    EXPECT_TRUE(event.contains(field)) << field;
  EXPECT_EQ(event["actual_price"], 600);
  EXPECT_EQ(event["bid_price"], 900);
}

TEST_F(Ads, ConversionsAreAttributedToTheLastClickAndCountedOnce) {
  auto s = make_two_campaigns();
  const std::string buyer = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  auto r = request({{"device_id", buyer}, {"session_id", "s-9"}, {"placement", "SEARCH"},
                    {"search_term", s.term}, {"max_ads", 1}});
  ASSERT_EQ(r.status, 200);
  auto ad = r.json["ads"][0];
  auto click = server->call("POST", "/api/v1/ads/click",
                            json{{"token", ad["token"]}, {"device_id", buyer}}.dump());
  ASSERT_EQ(click.status, 200) << click.body;
  ASSERT_EQ(click.json["charged"], true);
  auto order = "order-" + unique_suffix();
  json body = {{"device_id", buyer},
               {"session_id", "s-9"},
               {"order_id", order},
               {"conversion_type", "PURCHASE"},
               {"referrer_url", "https://shop.example/p/1"},
               {"products",
                {{{"product_id", ad["product_id"]}, {"revenue_amount", 50000}},
                 {{"product_id", "NOT_CLICKED"}, {"revenue_amount", 1000}}}}};
  auto c = server->call("POST", "/api/v1/ads/conversion", body.dump());
  ASSERT_EQ(c.status, 200) << c.body;
  ASSERT_EQ(c.json["products"].size(), 2u);
  EXPECT_EQ(c.json["products"][0]["attributed"], true);
  EXPECT_EQ(c.json["products"][0]["campaign_id"], ad["campaign_id"]);
  EXPECT_EQ(c.json["products"][0]["counted"], true);
  EXPECT_EQ(c.json["products"][1]["attributed"], false);
  // The same order again is counted once.
  auto again = server->call("POST", "/api/v1/ads/conversion", body.dump());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.json["products"][0]["counted"], false);
  // Another device's purchase is not attributed to this click.
  body["device_id"] = device;
  body["order_id"] = order + "-other";
  auto other = server->call("POST", "/api/v1/ads/conversion", body.dump());
  EXPECT_EQ(other.json["products"][0]["attributed"], false);

  int found = 0;
  for (int attempt = 0; attempt < 50 && found == 0; ++attempt) {
    for (auto& [key, j] : read_topic(server->kafka_bootstrap(), "conversion-events")) {
      if (j.value("order_id", "") != order)
        continue;
      ++found;
      for (auto field : {"timestamp", "device_id", "session_id", "order_id", "product_id",
                         "revenue_amount", "conversion_type", "attribution_window", "referrer_url"})
        EXPECT_TRUE(j.contains(field)) << field;
    }
    if (found == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(found, 2);  // two products, the repeated order added nothing

  auto bad = server->call("POST", "/api/v1/ads/conversion",
                          json{{"device_id", buyer}, {"session_id", "s"}, {"order_id", "o"},
                               {"conversion_type", "REFUND"}, {"products", json::array()}}
                            .dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json["error"]["details"]["field"], "conversion_type");
}

TEST_F(Ads, ImpressionsAndClicksTeachTheRanking) {
  auto s = make_two_campaigns();
  // Equal CTR: the 900-bidder wins. Give the 600-bidder many clicks on few
  // impressions (its own ads, served to it alone while the other is paused).
  ASSERT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(s.high) + "/status",
                          R"({"status":"PAUSED"})").status, 200);
  for (int i = 0; i < 60; ++i) {
    char dev[40];
    std::snprintf(dev, sizeof dev, "11111111-2222-4333-8444-%012d", i);
    auto r = request({{"device_id", dev}, {"session_id", "s"}, {"placement", "SEARCH"},
                      {"search_term", s.term}, {"max_ads", 1}});
    ASSERT_EQ(r.json["ads"][0]["campaign_id"], s.low);
    json t = {{"token", r.json["ads"][0]["token"]}, {"device_id", dev}};
    ASSERT_EQ(server->call("POST", "/api/v1/ads/impression", t.dump()).status, 200);
    auto click_reply = server->call("POST", "/api/v1/ads/click", t.dump());
    ASSERT_EQ(click_reply.status, 200);
    EXPECT_EQ(click_reply.json["charged"], true) << click_reply.body;
  }
  ASSERT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(s.high) + "/status",
                          R"({"status":"ACTIVE"})").status, 200);
  // pCTR(low) = (60 + 1000*0.01) / (60 + 1000) = 0.066 vs 0.01: 600*0.066 > 900*0.01.
  // Statistics reach the auction by flushes and background reloads: wait
  // until all of them have (the ranking may flip before the last flush).
  json first;
  for (int attempt = 0; attempt < 60; ++attempt) {
    first = search(s.term)["ads"][0];
    auto c = adserver::verify_token(first["token"], secret, 0);
    if (first["campaign_id"] == s.low && c && c->price < 200)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(first["campaign_id"], s.low);
  auto claims = adserver::verify_token(first["token"], secret, 0);
  ASSERT_TRUE(claims);
  EXPECT_LE(claims->price, 600);  // never above its own bid
  EXPECT_LT(claims->price, 200);  // second price in its (higher) quality units
}

TEST_F(Ads, DevicesOverTheLimitGet429WithRetryAfter) {
  server_process limited(std::map<std::string, std::string>{{"rate_limit.device_per_second", "2"}});
  ASSERT_TRUE(limited.start()) << limited.output();
  const std::string busy = "22222222-3333-4444-8555-666666666666";
  json body = {{"device_id", busy}, {"session_id", "s"}, {"placement", "HOME"}};
  int ok = 0, limited_count = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    auto r = limited.call("POST", "/api/v1/ads/request", body.dump());
    if (r.status == 200) {
      ++ok;
    } else if (r.status == 429) {
      ++limited_count;
      EXPECT_EQ(r.json["error"]["code"], "RATE_LIMITED");
      retry_after = r.header("Retry-After");
    }
  }
  EXPECT_GE(ok, 4);  // the burst (2 x 2/s)
  EXPECT_LE(ok, 5);
  EXPECT_GT(limited_count, 0);
  EXPECT_EQ(retry_after, "1");
  // Another device is not affected.
  body["device_id"] = device;
  EXPECT_EQ(limited.call("POST", "/api/v1/ads/request", body.dump()).status, 200);
}

TEST_F(Ads, RequestValidation) {
  auto bad = [](json body, const std::string& field) {
    auto r = request(body);
    EXPECT_EQ(r.status, 400) << body.dump() << r.body;
    EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED");
    EXPECT_EQ(r.json["error"]["details"]["field"], field) << r.body;
  };
  bad({{"session_id", "s"}, {"placement", "HOME"}}, "device_id");
  bad({{"device_id", "not-a-uuid"}, {"session_id", "s"}, {"placement", "HOME"}}, "device_id");
  bad({{"device_id", device}, {"placement", "HOME"}}, "session_id");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "BANNER"}}, "placement");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "HOME"}, {"max_ads", 0}}, "max_ads");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "HOME"}, {"max_ads", 11}}, "max_ads");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "HOME"}, {"max_ads", "3"}}, "max_ads");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "SEARCH"}}, "search_term");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "SEARCH"}, {"search_term", " 노 "}},
      "search_term");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "CATEGORY"}}, "category");
  bad({{"device_id", device}, {"session_id", "s"}, {"placement", "HOME"}, {"exp_key", "k"}}, "exp_var");
  // Two Korean characters are enough (characters, not bytes).
  auto r = request({{"device_id", device}, {"session_id", "s"}, {"placement", "SEARCH"},
                    {"search_term", "노트"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Ads, ExperimentCodesAreServedRememberedPerSessionAndMappedBackOnConversion) {
  auto s = make_two_campaigns();
  auto key = "price_" + unique_suffix();
  auto sale = s.product + "_SALE";
  auto created = server->admin("POST", "/admin/v1/experiments/mappings",
                               json{{"exp_key", key},
                                    {"exp_var", "B"},
                                    {"original_product_id", s.product},
                                    {"experiment_product_id", sale},
                                    {"start_date", "2026-01-01"},
                                    {"end_date", "2099-12-31"}}
                                 .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  // A mapping that has not started yet changes nothing.
  ASSERT_EQ(server->admin("POST", "/admin/v1/experiments/mappings",
                          json{{"exp_key", key},
                               {"exp_var", "C"},
                               {"original_product_id", s.product},
                               {"experiment_product_id", s.product + "_LATER"},
                               {"start_date", "2098-01-01"},
                               {"end_date", "2099-12-31"}}
                            .dump())
              .status,
            201);
  const std::string buyer = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
  auto session = "exp-session-" + unique_suffix();
  auto serve = [&](const std::string& var) {
    json body = {{"device_id", buyer}, {"session_id", session}, {"placement", "SEARCH"},
                 {"search_term", s.term}};
    if (!var.empty()) {
      body["exp_key"] = key;
      body["exp_var"] = var;
    }
    auto r = request(body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  };

  auto b = serve("B");
  ASSERT_EQ(b["ads"].size(), 2u) << b.dump();
  for (auto& ad : b["ads"]) {
    EXPECT_EQ(ad["product_id"], sale);
    EXPECT_EQ(ad["original_product_id"], s.product);
    EXPECT_EQ(ad["experiment_applied"], true);
    auto claims = adserver::verify_token(ad["token"], secret, 0);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->product_id, sale);
    EXPECT_EQ(claims->original_product_id, s.product);
    EXPECT_EQ(claims->exp_key, key);  // the assignment travels for A/B analysis
    EXPECT_EQ(claims->exp_var, "B");
  }
  EXPECT_EQ(b["ads"][0]["campaign_id"], s.high);  // ranking and prices are untouched
  EXPECT_EQ(adserver::verify_token(b["ads"][0]["token"], secret, 0)->price, 600);
  for (std::string var : {"C", "A", ""}) {
    auto other = serve(var);
    ASSERT_EQ(other["ads"].size(), 2u);
    EXPECT_EQ(other["ads"][0]["product_id"], s.product) << var;
    EXPECT_EQ(other["ads"][0]["experiment_applied"], false) << var;
    // Control arms are tagged too: exposure is compared per variant.
    EXPECT_EQ(adserver::verify_token(other["ads"][0]["token"], secret, 0)->exp_var, var);
  }

  // The session's codes are mirrored to Redis for 24 h: experiment code -> original.
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(rc.run({"GET", "experiment:mapping:" + session}, rep, err)) << err;
    if (!rep.nil)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(rep.nil);
  EXPECT_EQ(json::parse(rep.text), (json{{sale, s.product}}));
  ASSERT_TRUE(rc.run({"TTL", "experiment:mapping:" + session}, rep, err)) << err;
  EXPECT_GT(std::stoll(rep.text), 86000);
  EXPECT_LE(std::stoll(rep.text), 86400);

  // A click on the experiment ad charges the auction price; a purchase of the
  // experiment code is attributed and reported under the original code.
  auto ad = b["ads"][0];
  auto click = server->call("POST", "/api/v1/ads/click",
                            json{{"token", ad["token"]},
                                 {"device_id", buyer},
                                 {"session_id", session},
                                 {"click_time", "2026-11-24T10:30:00.250+09:00"}}
                              .dump());
  ASSERT_EQ(click.status, 200) << click.body;
  EXPECT_EQ(click.json["charged"], true);
  EXPECT_EQ(click.json["amount"], 600);
  // The CLICK event names both codes and the client's click time.
  json click_event;
  for (int attempt = 0; attempt < 50 && click_event.is_null(); ++attempt) {
    for (auto& [key, j] : read_topic(server->kafka_bootstrap(), "ad-events"))
      if (j.value("event_type", "") == "CLICK" && j.value("device_id", "") == buyer
          && j.value("session_id", "") == session)
        click_event = j;
    if (click_event.is_null())
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(click_event.is_null());
  EXPECT_EQ(click_event["product_id"], sale);
  EXPECT_EQ(click_event["original_product_id"], s.product);
  EXPECT_EQ(click_event["click_time"], "2026-11-24T10:30:00.250+09:00");
  EXPECT_EQ(click_event["balance_deducted"], true);
  EXPECT_EQ(click_event["exp_key"], key);
  EXPECT_EQ(click_event["exp_var"], "B");
  auto order = "exp-order-" + unique_suffix();
  auto conv = server->call("POST", "/api/v1/ads/conversion",
                           json{{"device_id", buyer},
                                {"session_id", session},
                                {"order_id", order},
                                {"conversion_type", "PURCHASE"},
                                {"products", {{{"product_id", sale}, {"revenue_amount", 39000}}}}}
                             .dump());
  ASSERT_EQ(conv.status, 200) << conv.body;
  EXPECT_EQ(conv.json["products"][0]["attributed"], true);
  EXPECT_EQ(conv.json["products"][0]["product_id"], s.product);
  EXPECT_EQ(conv.json["products"][0]["campaign_id"], s.high);
  // Revenue is credited to the variant of the click it is attributed to.
  json conversion_event;
  for (int attempt = 0; attempt < 50 && conversion_event.is_null(); ++attempt) {
    for (auto& [k, j] : read_topic(server->kafka_bootstrap(), "conversion-events"))
      if (j.value("order_id", "") == order)
        conversion_event = j;
    if (conversion_event.is_null())
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(conversion_event.is_null());
  EXPECT_EQ(conversion_event["product_id"], s.product);
  EXPECT_EQ(conversion_event["exp_key"], key);
  EXPECT_EQ(conversion_event["exp_var"], "B");
  EXPECT_EQ(conversion_event["revenue_amount"], 39000);

  // Deleting the mapping takes effect on the next request.
  auto id = created.json["id"].get<int64_t>();
  ASSERT_EQ(server->admin("DELETE", "/admin/v1/experiments/mappings/" + std::to_string(id)).status,
            200);
  auto after = serve("B");
  ASSERT_EQ(after["ads"].size(), 2u);
  EXPECT_EQ(after["ads"][0]["product_id"], s.product);
  EXPECT_EQ(after["ads"][0]["experiment_applied"], false);
}

TEST_F(Ads, CategoryBaselinesFromRedisSetWhereNewCampaignsStart) {
  auto suffix = unique_suffix();
  auto term = "baseline" + suffix;
  auto plain = "plain" + suffix;
  auto hot = "hot" + suffix;
  // The phone category clicks five times as often as the default 0.01; set on
  // the parent path, it applies to hot/phones too.
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  ASSERT_TRUE(rc.run({"SET", "defense:category:" + hot + ":ctr", "0.05"}, rep, err)) << err;
  ASSERT_TRUE(rc.run({"SET", "defense:category:" + plain + ":ctr", "not a number"}, rep, err));
  auto adv = new_advertiser(100000);
  new_product("PLAIN_" + suffix, plain + "/cables");
  new_product("HOT_" + suffix, hot + "/phones");
  auto cables = new_search_campaign(adv, "PLAIN_" + suffix, term, 900);
  auto phones = new_search_campaign(adv, "HOT_" + suffix, term, 600);
  auto res = search(term);
  ASSERT_EQ(res["ads"].size(), 2u) << res.dump();
  // 600 x 0.05 = 30 beats 900 x 0.01 = 9; it pays ceil(9 / 0.05) = 180.
  EXPECT_EQ(res["ads"][0]["campaign_id"], phones);
  EXPECT_EQ(res["ads"][1]["campaign_id"], cables);
  auto first = adserver::verify_token(res["ads"][0]["token"], secret, 0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->price, 180);
}

TEST_F(Ads, ClicksOnACheapAdTakeTheAdvertisersDearAdOutWhenItCanNoLongerPay) {
  auto suffix = unique_suffix();
  auto cheap_term = "cheap" + suffix;
  auto dear_term = "dear" + suffix;
  auto sure = "sure" + suffix;  // a category whose ads are always clicked: expected cost = price
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  ASSERT_TRUE(rc.run({"SET", "defense:category:" + sure + ":ctr", "1"}, rep, err)) << err;
  auto adv = new_advertiser(4005);
  auto rival = new_advertiser(1000000);
  new_product("CHEAP_" + suffix, "plain" + suffix);
  new_product("DEAR_" + suffix, sure);
  new_product("RIVAL_" + suffix, sure);
  new_search_campaign(adv, "CHEAP_" + suffix, cheap_term, 100);
  auto dear = new_search_campaign(adv, "DEAR_" + suffix, dear_term, 5000);
  auto other = new_search_campaign(rival, "RIVAL_" + suffix, dear_term, 4000);
  auto before = search(dear_term);
  ASSERT_EQ(before["ads"].size(), 2u) << before.dump();
  EXPECT_EQ(before["ads"][0]["campaign_id"], dear);
  EXPECT_EQ(adserver::verify_token(before["ads"][0]["token"], secret, 0)->price, 4000);
  // One 10-won click on the cheap ad leaves 3995: less than the dear ad's
  // expected cost (4000 x 1.0), so it leaves that ranking at once.
  auto cheap = search(cheap_term)["ads"][0];
  auto click = server->call("POST", "/api/v1/ads/click",
                            json{{"token", cheap["token"]}, {"device_id", device}}.dump());
  ASSERT_EQ(click.status, 200) << click.body;
  EXPECT_EQ(click.json["remaining_balance"], 3995);
  auto after = search(dear_term);
  ASSERT_EQ(after["ads"].size(), 1u) << after.dump();
  EXPECT_EQ(after["ads"][0]["campaign_id"], other);
}

TEST_F(Ads, IdleAuctionsRetireAndUnknownTermsCostNoAuction) {
  server_process quick({{"security.hmac_secret", secret}, {"ads.auction_idle_seconds", "1"}});
  ASSERT_TRUE(quick.start()) << quick.output();
  auto suffix = unique_suffix();
  auto term = "idle" + suffix;
  auto adv = new_advertiser(100000, &quick);
  new_product("IDLE_" + suffix, "idle", &quick);
  auto campaign = new_search_campaign(adv, "IDLE_" + suffix, term, 500, &quick);
  auto ask = [&](const server_process& s, const std::string& t) {
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", device}, {"session_id", "s"}, {"placement", "SEARCH"},
                         {"search_term", t}}
                      .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["ads"];
  };
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  auto mirrored = [&] {
    adserver::storage::redis_connection::reply rep;
    std::string err;
    EXPECT_TRUE(rc.run({"ZCARD", "rtb:SEARCH:" + term}, rep, err)) << err;
    return rep.text;
  };
  auto wait_for = [&](const std::string& want) {
    std::string got;
    for (int i = 0; i < 100 && (got = mirrored()) != want; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return got;
  };
  ASSERT_EQ(ask(quick, term).size(), 1u);
  EXPECT_EQ(wait_for("1"), "1");
  // Unused for a second, the auction retires and takes its mirror along ...
  EXPECT_EQ(wait_for("0"), "0");
  // ... and the next request starts a new one with the same answer.
  auto again = ask(quick, term);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["campaign_id"], campaign);
  EXPECT_EQ(wait_for("1"), "1");
  // A term no campaign targets is answered empty.
  EXPECT_EQ(ask(quick, "nobody-targets-" + suffix).size(), 0u);
  // A campaign created through another node reaches this one's index within
  // its refresh (ads.stats_refresh_seconds = 1 here).
  auto elsewhere = "elsewhere" + suffix;
  new_search_campaign(adv, "IDLE_" + suffix, elsewhere, 500, &quick);
  size_t found = 0;
  for (int i = 0; i < 50 && (found = ask(*server, elsewhere).size()) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(found, 1u);
  EXPECT_TRUE(quick.stop()) << "no clean exit on SIGTERM";
}

}  // namespace
