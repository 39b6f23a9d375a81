// The admin API over real HTTP against the real server, PostgreSQL and Redis.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

class AdminApi : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new server_process();
    ASSERT_TRUE(server->start()) << server->output();
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }

  static json advertiser_body(int64_t initial = 0) {
    return {{"advertiser_name", "Test Shop " + unique_suffix()},
            {"business_number", unique_business_number()},
            {"email", "ads@test-shop.example"},
            {"business_type", "RETAIL"},
            {"initial_balance", initial}};
  }

  static int64_t create_advertiser(int64_t initial) {
    auto r = server->admin("POST", "/admin/v1/advertisers", advertiser_body(initial).dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json.value("id", int64_t{0});
  }

  static std::string create_product() {
    auto id = "P_" + unique_suffix();
    auto r = server->admin("POST", "/admin/v1/products",
                           json{{"product_id", id},
                                {"product_name", "Test product"},
                                {"category", "electronics/computers"},
                                {"price", 990000}}
                             .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return id;
  }

  static json campaign_body(int64_t advertiser, const std::string& product) {
    return {{"advertiser_id", advertiser},
            {"campaign_name", "Campaign " + unique_suffix()},
            {"campaign_type", "CPC"},
            {"product_id", product},
            {"start_date", "2026-01-01"},
            {"end_date", "2099-12-31"},
            {"daily_budget", 10000},
            {"total_budget", 100000},
            {"targeting", {{"categories", {"electronics/computers"}}, {"keywords", {"노트북"}}}},
            {"bids", {{"HOME", 500}, {"SEARCH", 700}}}};
  }

  static void expect_error(const http_result& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    ASSERT_TRUE(r.json.is_object()) << r.body;
    ASSERT_TRUE(r.json.contains("error")) << r.body;
    EXPECT_EQ(r.json["error"]["code"], code) << r.body;
    EXPECT_TRUE(r.json["error"]["message"].is_string());
    EXPECT_TRUE(r.json["error"]["details"].is_object());
  }

  static server_process* server;
};

server_process* AdminApi::server = nullptr;

TEST_F(AdminApi, HealthAndReadiness) {
  EXPECT_EQ(server->call("GET", "/healthz").status, 200);
  // Ready (200) at once; "ready" rather than "degraded" once Redis and the
  // counters' writer have connected too, moments after start.
  auto r = server->call("GET", "/readyz");
  EXPECT_EQ(r.status, 200);
  for (int i = 0; i < 50 && r.json["status"] != "ready"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    r = server->call("GET", "/readyz");
  }
  EXPECT_EQ(r.json["status"], "ready") << r.body;
  EXPECT_EQ(r.json["components"]["postgres_counters"], "up") << r.body;
}

TEST_F(AdminApi, AdvertiserLifecycleWithAuditFields) {
  auto body = advertiser_body(50000);
  auto r = server->admin("POST", "/admin/v1/advertisers", body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto id = r.json["id"].get<int64_t>();
  EXPECT_EQ(r.json["business_number"], body["business_number"]);
  EXPECT_EQ(r.json["balance"], 50000);
  EXPECT_EQ(r.json["activated"], 1);
  EXPECT_EQ(r.json["created_user_id"], "tester");
  EXPECT_EQ(r.json["updated_user_id"], "tester");
  // ISO 8601 with offset
  auto created = r.json["created_at"].get<std::string>();
  EXPECT_EQ(created.size(), 29u) << created;
  EXPECT_EQ(created[10], 'T');
  EXPECT_TRUE(created[23] == '+' || created[23] == '-') << created;

  auto got = server->admin("GET", "/admin/v1/advertisers/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json["advertiser_name"], body["advertiser_name"]);

  // The same business number again: conflict.
  expect_error(server->admin("POST", "/admin/v1/advertisers", body.dump()), 409, "CONFLICT");

  auto del = server->admin("DELETE", "/admin/v1/advertisers/" + std::to_string(id));
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.json["activated"], 0);
  // Deleted advertisers take no money changes.
  expect_error(server->admin("PUT", "/admin/v1/advertisers/" + std::to_string(id) + "/balance",
                             R"({"action":"charge","amount":100})"),
               409, "REFERENCE_INACTIVE");
}

TEST_F(AdminApi, BalanceChargeDeductAndHistory) {
  auto id = create_advertiser(1000);
  auto path = "/admin/v1/advertisers/" + std::to_string(id) + "/balance";
  auto r = server->admin("PUT", path, R"({"action":"charge","amount":500,"memo":"top-up"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["advertiser_id"], id);
  EXPECT_EQ(r.json["balance_before"], 1000);
  EXPECT_EQ(r.json["balance_after"], 1500);
  EXPECT_GT(r.json["history_id"].get<int64_t>(), 0);
  r = server->admin("PUT", path, R"({"action":"deduct","amount":1500})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["balance_after"], 0);
  auto refused = server->admin("PUT", path, R"({"action":"deduct","amount":1})");
  expect_error(refused, 409, "INSUFFICIENT_BALANCE");
  EXPECT_EQ(refused.json["error"]["details"]["balance"], 0);
  auto view = server->admin("GET", path);
  ASSERT_EQ(view.status, 200);
  EXPECT_EQ(view.json["balance"], 0);
  EXPECT_TRUE(view.json["campaigns"].is_array());
}

TEST_F(AdminApi, CampaignLifecycle) {
  auto adv = create_advertiser(100000);
  auto product = create_product();
  auto got_product = server->admin("GET", "/admin/v1/products/" + product);
  ASSERT_EQ(got_product.status, 200);
  EXPECT_EQ(got_product.json["category"], "electronics/computers");

  auto r = server->admin("POST", "/admin/v1/campaigns", campaign_body(adv, product).dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["status"], "PENDING");
  EXPECT_EQ(r.json["bids"]["HOME"], 500);
  auto id = std::to_string(r.json["id"].get<int64_t>());

  auto got = server->admin("GET", "/admin/v1/campaigns/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json["targeting"]["keywords"][0], "노트북");

  expect_error(server->admin("PATCH", "/admin/v1/campaigns/" + id + "/status",
                             R"({"status":"PAUSED"})"),
               409, "CONFLICT");
  auto approved = server->admin("PATCH", "/admin/v1/campaigns/" + id + "/status",
                                R"({"status":"ACTIVE"})");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.json["status"], "ACTIVE");

  auto bids = server->admin("PUT", "/admin/v1/campaigns/" + id + "/bids",
                            R"({"bids":{"CATEGORY":800,"HOME":650}})");
  ASSERT_EQ(bids.status, 200) << bids.body;
  EXPECT_EQ(bids.json["bids"]["HOME"], 650);
  EXPECT_FALSE(bids.json["bids"].contains("SEARCH"));

  auto budget = server->admin("GET", "/admin/v1/campaigns/" + id + "/budget");
  ASSERT_EQ(budget.status, 200) << budget.body;
  EXPECT_EQ(budget.json["daily_budget"], 10000);
  EXPECT_EQ(budget.json["spent_today"], 0);
  EXPECT_EQ(budget.json["remaining_today"], 10000);
  EXPECT_EQ(budget.json["remaining_total"], 100000);

  auto balance = server->admin("GET", "/admin/v1/advertisers/" + std::to_string(adv) + "/balance");
  ASSERT_EQ(balance.status, 200);
  ASSERT_EQ(balance.json["campaigns"].size(), 1u) << balance.body;
  EXPECT_EQ(balance.json["campaigns"][0]["daily_budget"], 10000);

  auto del = server->admin("DELETE", "/admin/v1/campaigns/" + id);
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.json["activated"], 0);
  expect_error(server->admin("PATCH", "/admin/v1/campaigns/" + id + "/status",
                             R"({"status":"PAUSED"})"),
               409, "REFERENCE_INACTIVE");

  // Bids and status survive a reload from PostgreSQL (a new server process).
  server_process second;
  ASSERT_TRUE(second.start());
  auto reloaded = second.admin("GET", "/admin/v1/campaigns/" + id);
  ASSERT_EQ(reloaded.status, 200);
  EXPECT_EQ(reloaded.json["bids"]["CATEGORY"], 800);
  EXPECT_EQ(reloaded.json["status"], "ACTIVE");
  EXPECT_EQ(reloaded.json["activated"], 0);
}

TEST_F(AdminApi, CampaignReferencesAreChecked) {
  auto product = create_product();
  expect_error(server->admin("POST", "/admin/v1/campaigns",
                             campaign_body(987654321, product).dump()),
               404, "REFERENCE_NOT_FOUND");
  auto adv = create_advertiser(0);
  expect_error(server->admin("POST", "/admin/v1/campaigns",
                             campaign_body(adv, "NO_SUCH_PRODUCT_" + unique_suffix()).dump()),
               404, "REFERENCE_NOT_FOUND");
  ASSERT_EQ(server->admin("DELETE", "/admin/v1/advertisers/" + std::to_string(adv)).status, 200);
  expect_error(server->admin("POST", "/admin/v1/campaigns", campaign_body(adv, product).dump()),
               409, "REFERENCE_INACTIVE");
}

TEST_F(AdminApi, ExperimentMappings) {
  auto key = "price_test_" + unique_suffix();
  json body = {{"exp_key", key},
               {"exp_var", "B"},
               {"original_product_id", "SAMSUNG_NB_001"},
               {"experiment_product_id", "SAMSUNG_NB_001_SALE"},
               {"start_date", "2026-01-01"},
               {"end_date", "2099-12-31"}};
  auto created = server->admin("POST", "/admin/v1/experiments/mappings", body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json["activated"], 1);
  EXPECT_EQ(created.json["created_user_id"], "tester");
  auto id = created.json["id"].get<int64_t>();
  auto list = server->admin("GET", "/admin/v1/experiments/mappings?exp_key=" + key);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["mappings"].size(), 1u);
  EXPECT_EQ(list.json["mappings"][0]["experiment_product_id"], "SAMSUNG_NB_001_SALE");
  auto del = server->admin("DELETE", "/admin/v1/experiments/mappings/" + std::to_string(id));
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.json["activated"], 0);
  EXPECT_EQ(server->admin("GET", "/admin/v1/experiments/mappings?exp_key=" + key).json["mappings"].size(), 0u);
  expect_error(server->admin("DELETE", "/admin/v1/experiments/mappings/999999999"), 404,
               "REFERENCE_NOT_FOUND");
  body["end_date"] = "2025-01-01";
  auto bad = server->admin("POST", "/admin/v1/experiments/mappings", body.dump());
  expect_error(bad, 400, "VALIDATION_FAILED");
  EXPECT_EQ(bad.json["error"]["details"]["field"], "end_date");
  body.erase("exp_var");
  expect_error(server->admin("POST", "/admin/v1/experiments/mappings", body.dump()), 400,
               "VALIDATION_FAILED");
}

TEST_F(AdminApi, BadInputGetsDocumentedErrors) {
  auto id = create_advertiser(100);
  auto balance = "/admin/v1/advertisers/" + std::to_string(id) + "/balance";
  expect_error(server->admin("POST", "/admin/v1/advertisers", "{not json"), 400,
               "VALIDATION_FAILED");
  expect_error(server->admin("POST", "/admin/v1/advertisers", "[1,2]"), 400, "VALIDATION_FAILED");
  auto body = advertiser_body();
  body.erase("email");
  auto missing = server->admin("POST", "/admin/v1/advertisers", body.dump());
  expect_error(missing, 400, "VALIDATION_FAILED");
  EXPECT_EQ(missing.json["error"]["details"]["field"], "email");
  body = advertiser_body();
  body["business_number"] = "1234567890";
  auto bn = server->admin("POST", "/admin/v1/advertisers", body.dump());
  expect_error(bn, 400, "VALIDATION_FAILED");
  EXPECT_EQ(bn.json["error"]["details"]["field"], "business_number");
  body = advertiser_body();
  body["email"] = "nope";
  expect_error(server->admin("POST", "/admin/v1/advertisers", body.dump()), 400,
               "VALIDATION_FAILED");

  auto wrong_type = server->admin("PUT", balance, R"({"action":"charge","amount":"100"})");
  expect_error(wrong_type, 400, "VALIDATION_FAILED");
  EXPECT_EQ(wrong_type.json["error"]["details"]["field"], "amount");
  expect_error(server->admin("PUT", balance, R"({"action":"charge","amount":10.5})"), 400,
               "VALIDATION_FAILED");
  expect_error(server->admin("PUT", balance, R"({"action":"charge","amount":-5})"), 400,
               "VALIDATION_FAILED");
  expect_error(server->admin("PUT", balance, R"({"action":"steal","amount":5})"), 400,
               "VALIDATION_FAILED");
  expect_error(server->admin("PUT", balance, R"({"amount":5})"), 400, "VALIDATION_FAILED");

  expect_error(server->admin("GET", "/admin/v1/advertisers/999999999"), 404,
               "REFERENCE_NOT_FOUND");
  expect_error(server->admin("GET", "/admin/v1/advertisers/abc"), 400, "VALIDATION_FAILED");
  expect_error(server->admin("GET", "/admin/v1/campaigns/999999999"), 404,
               "REFERENCE_NOT_FOUND");
  expect_error(server->admin("GET", "/admin/v1/products/NOPE_" + unique_suffix()), 404,
               "REFERENCE_NOT_FOUND");
  expect_error(server->admin("GET", "/admin/v1/nothing-here"), 404, "NOT_FOUND");

  // The balance is untouched by all of that.
  EXPECT_EQ(server->admin("GET", balance).json["balance"], 100);
}

TEST_F(AdminApi, AdminEndpointsRequireTheBearerToken) {
  expect_error(server->call("GET", "/admin/v1/advertisers/1"), 401, "UNAUTHORIZED");
  expect_error(http_call(server->port(), "POST", "/admin/v1/advertisers",
                         advertiser_body().dump(), "wrong-token-0123456789"),
               401, "UNAUTHORIZED");
  expect_error(http_call(server->port(), "PUT", "/admin/v1/advertisers/1/balance",
                         R"({"action":"charge","amount":1})", ""),
               401, "UNAUTHORIZED");
}

TEST_F(AdminApi, OversizedBodyGets413AndServerStaysUp) {
  std::string big(2 << 20, 'x');
  auto r = server->admin("POST", "/admin/v1/advertisers", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(server->call("GET", "/healthz").status, 200);
}

}  // namespace
