// GET /admin/v1/advertisers and /admin/v1/campaigns on a live server: walking
// every page with a small limit sees each row exactly once in id order, the
// filters select what they name, the last page says so with a null
// next_cursor, and bad parameters are 400s that name the parameter.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

/// Every item of a listing, page by page, and what the walk saw on the way.
struct walk_result {
  std::vector<json> items;
  int pages = 0;
  bool last_page_had_null_cursor = false;
  std::string failure;  // "" when every page answered 200 with the right shape
};

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// Follows next_cursor from the first page to the last; `target` already
/// carries its query (limit, filters).
walk_result walk(http_client& client, const std::string& token, const std::string& target) {
  walk_result out;
  std::string cursor;
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = client.call("GET", cursor.empty() ? target
                                                  : target + "&cursor=" + percent_encode(cursor),
                            "", token);
    ++out.pages;
    if (page.status != 200 || !page.json.is_object() || !page.json["items"].is_array()
        || !page.json.contains("next_cursor")) {
      out.failure = std::to_string(page.status) + " " + page.body;
      return out;
    }
    for (auto& item : page.json["items"])
      out.items.push_back(item);
    auto& next = page.json["next_cursor"];
    if (next.is_null()) {
      out.last_page_had_null_cursor = true;
      return out;
    }
    if (!next.is_string() || next.get<std::string>().empty()) {
      out.failure = "next_cursor is neither null nor a string: " + page.body;
      return out;
    }
    cursor = next.get<std::string>();
  }
  out.failure = "the walk did not end";
  return out;
}

std::vector<int64_t> ids_of(const std::vector<json>& items) {
  std::vector<int64_t> ids;
  for (auto& item : items)
    ids.push_back(item.value("id", int64_t{0}));
  return ids;
}

bool strictly_increasing(const std::vector<int64_t>& ids) {
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i] <= ids[i - 1])
      return false;
  return true;
}

int64_t create_advertiser(const server_process& s, const std::string& name) {
  auto r = s.admin("POST", "/admin/v1/advertisers",
                   json{{"advertiser_name", name},
                        {"business_number", unique_business_number()},
                        {"email", "lists@test.example"},
                        {"business_type", "RETAIL"},
                        {"initial_balance", 5000}}
                     .dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("id", int64_t{0});
}

int64_t create_campaign(const server_process& s, int64_t advertiser, const std::string& product,
                        int i) {
  auto r = s.admin("POST", "/admin/v1/campaigns",
                   json{{"advertiser_id", advertiser},
                        {"campaign_name", "list " + std::to_string(i)},
                        {"product_id", product},
                        {"start_date", "2026-01-01"},
                        {"end_date", "2099-01-01"},
                        {"daily_budget", 1000},
                        {"total_budget", 50000},
                        {"bids", {{"HOME", 100 + i}}}}
                     .dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("id", int64_t{0});
}

void set_status(const server_process& s, int64_t campaign, const std::string& status) {
  auto r = s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(campaign) + "/status",
                   json{{"status", status}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
}

/// The rows one test creates: 25 advertisers (the last one soft-deleted), 21
/// campaigns of the first (ACTIVE, PENDING and PAUSED in turn, one PENDING
/// deleted) and 4 of the second.
struct fixture_rows {
  std::vector<int64_t> advertisers;
  int64_t deleted_advertiser = 0;
  int64_t first = 0;   // advertiser with 21 campaigns
  int64_t second = 0;  // advertiser with 4
  std::map<int64_t, std::string> campaign_status;  // of `first`'s campaigns
  std::vector<int64_t> second_campaigns;
  int64_t deleted_campaign = 0;
};

fixture_rows create_rows(const server_process& s) {
  fixture_rows f;
  for (int i = 0; i < 25; ++i)
    f.advertisers.push_back(create_advertiser(s, "Lists " + std::to_string(i)));
  f.first = f.advertisers[0];
  f.second = f.advertisers[1];
  f.deleted_advertiser = f.advertisers.back();
  auto del = s.admin("DELETE", "/admin/v1/advertisers/" + std::to_string(f.deleted_advertiser));
  EXPECT_EQ(del.status, 200) << del.body;
  auto product = "LST_" + unique_suffix();
  EXPECT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", product}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  for (int i = 0; i < 21; ++i) {
    auto id = create_campaign(s, f.first, product, i);
    std::string status = "PENDING";
    if (i % 3 == 0) {
      set_status(s, id, "ACTIVE");
      status = "ACTIVE";
    } else if (i % 3 == 2) {
      set_status(s, id, "ACTIVE");
      set_status(s, id, "PAUSED");
      status = "PAUSED";
    }
    f.campaign_status[id] = status;
  }
  f.deleted_campaign = std::next(f.campaign_status.begin())->first;  // i = 1: PENDING
  auto cdel = s.admin("DELETE", "/admin/v1/campaigns/" + std::to_string(f.deleted_campaign));
  EXPECT_EQ(cdel.status, 200) << cdel.body;
  for (int i = 0; i < 4; ++i)
    f.second_campaigns.push_back(create_campaign(s, f.second, product, 100 + i));
  return f;
}

class Lists : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new server_process();
    ASSERT_TRUE(server->start()) << server->output();
    rows = new fixture_rows(create_rows(*server));
  }
  static void TearDownTestSuite() {
    delete rows;
    delete server;
  }
  static server_process* server;
  static fixture_rows* rows;
};

server_process* Lists::server = nullptr;
fixture_rows* Lists::rows = nullptr;

TEST_F(Lists, WalkingEveryAdvertiserPageSeesEachRowOnceInIdOrder) {
  http_client client{server->port()};
  auto w = walk(client, server->admin_token(), "/admin/v1/advertisers?limit=7");
  ASSERT_EQ(w.failure, "");
  EXPECT_TRUE(w.last_page_had_null_cursor);
  auto ids = ids_of(w.items);
  EXPECT_TRUE(strictly_increasing(ids));
  std::multiset<int64_t> seen(ids.begin(), ids.end());
  for (auto id : rows->advertisers)
    EXPECT_EQ(seen.count(id), 1u) << "advertiser " << id;
  // Every page but the last holds exactly `limit` items, and a full last
  // page is still known to be the last (one row more is read than shown).
  EXPECT_EQ(w.pages, std::max(1, static_cast<int>((w.items.size() + 6) / 7)))
    << w.items.size() << " items in " << w.pages << " pages";
  // Soft-deleted advertisers are listed, and say so.
  for (auto& item : w.items) {
    if (item["id"] == rows->deleted_advertiser) {
      EXPECT_EQ(item["activated"], 0) << item;
    }
  }
}

TEST_F(Lists, AnItemIsWhatTheSingleGetReturns) {
  http_client client{server->port()};
  auto w = walk(client, server->admin_token(),
                "/admin/v1/campaigns?limit=7&advertiser_id=" + std::to_string(rows->second));
  ASSERT_EQ(w.failure, "");
  ASSERT_EQ(w.items.size(), 4u);
  auto single = server->admin("GET", "/admin/v1/campaigns/" + std::to_string(rows->second_campaigns[0]));
  ASSERT_EQ(single.status, 200) << single.body;
  EXPECT_EQ(w.items[0], single.json);
  auto advertisers = walk(client, server->admin_token(), "/admin/v1/advertisers?limit=500");
  ASSERT_EQ(advertisers.failure, "");
  auto adv = server->admin("GET", "/admin/v1/advertisers/" + std::to_string(rows->second));
  ASSERT_EQ(adv.status, 200) << adv.body;
  bool found = false;
  for (auto& item : advertisers.items)
    if (item["id"] == rows->second) {
      found = true;
      EXPECT_EQ(item, adv.json);
    }
  EXPECT_TRUE(found);
}

TEST_F(Lists, StatusFiltersAdvertisersByActivation) {
  http_client client{server->port()};
  auto active = walk(client, server->admin_token(), "/admin/v1/advertisers?limit=500&status=ACTIVE");
  auto inactive = walk(client, server->admin_token(), "/admin/v1/advertisers?limit=500&status=INACTIVE");
  ASSERT_EQ(active.failure, "");
  ASSERT_EQ(inactive.failure, "");
  auto a = ids_of(active.items);
  auto d = ids_of(inactive.items);
  std::set<int64_t> active_ids(a.begin(), a.end()), inactive_ids(d.begin(), d.end());
  EXPECT_EQ(inactive_ids.count(rows->deleted_advertiser), 1u);
  EXPECT_EQ(active_ids.count(rows->deleted_advertiser), 0u);
  EXPECT_EQ(active_ids.count(rows->first), 1u);
  EXPECT_EQ(inactive_ids.count(rows->first), 0u);
  for (auto& item : active.items)
    EXPECT_EQ(item["activated"], 1) << item;
  for (auto& item : inactive.items)
    EXPECT_EQ(item["activated"], 0) << item;
}

TEST_F(Lists, CampaignsOfOneAdvertiserInPagesOfSeven) {
  http_client client{server->port()};
  auto w = walk(client, server->admin_token(),
                "/admin/v1/campaigns?limit=7&advertiser_id=" + std::to_string(rows->first));
  ASSERT_EQ(w.failure, "");
  // 21 rows in pages of 7: the third page is full and still the last one.
  EXPECT_EQ(w.pages, 3);
  EXPECT_TRUE(w.last_page_had_null_cursor);
  std::vector<int64_t> expected;
  for (auto& [id, status] : rows->campaign_status)
    expected.push_back(id);
  EXPECT_EQ(ids_of(w.items), expected);
  for (auto& item : w.items) {
    EXPECT_EQ(item["advertiser_id"], rows->first);
    auto id = item["id"].get<int64_t>();
    EXPECT_EQ(item["activated"], id == rows->deleted_campaign ? 0 : 1) << item;
    EXPECT_EQ(item["status"], rows->campaign_status[id]) << item;
  }
}

TEST_F(Lists, WalkingEveryCampaignPageSeesEachRowOnceInIdOrder) {
  http_client client{server->port()};
  auto w = walk(client, server->admin_token(), "/admin/v1/campaigns?limit=7");
  ASSERT_EQ(w.failure, "");
  EXPECT_TRUE(w.last_page_had_null_cursor);
  auto ids = ids_of(w.items);
  EXPECT_TRUE(strictly_increasing(ids));
  std::multiset<int64_t> seen(ids.begin(), ids.end());
  for (auto& [id, status] : rows->campaign_status)
    EXPECT_EQ(seen.count(id), 1u) << "campaign " << id;
  for (auto id : rows->second_campaigns)
    EXPECT_EQ(seen.count(id), 1u) << "campaign " << id;
}

TEST_F(Lists, StatusFiltersCampaignsNotDeleted) {
  http_client client{server->port()};
  auto base = "/admin/v1/campaigns?limit=7&advertiser_id=" + std::to_string(rows->first);
  for (std::string status : {"ACTIVE", "PENDING", "PAUSED", "ENDED"}) {
    auto w = walk(client, server->admin_token(), base + "&status=" + status);
    ASSERT_EQ(w.failure, "") << status;
    std::vector<int64_t> expected;
    for (auto& [id, s] : rows->campaign_status)
      if (s == status && id != rows->deleted_campaign)
        expected.push_back(id);
    EXPECT_EQ(ids_of(w.items), expected) << status;
  }
  // An advertiser without campaigns (or unknown) is an empty list, not an error.
  auto none = walk(client, server->admin_token(),
                   "/admin/v1/campaigns?advertiser_id=" + std::to_string(rows->deleted_advertiser));
  ASSERT_EQ(none.failure, "");
  EXPECT_TRUE(none.items.empty());
  EXPECT_TRUE(none.last_page_had_null_cursor);
}

TEST_F(Lists, DefaultPageIsAHundred) {
  auto r = server->admin("GET", "/admin/v1/campaigns");
  ASSERT_EQ(r.status, 200) << r.body;
  auto n = r.json["items"].size();
  if (r.json["next_cursor"].is_null())
    EXPECT_LE(n, 100u);
  else
    EXPECT_EQ(n, 100u);
}

TEST_F(Lists, BadParametersAre400NamingTheField) {
  const std::vector<std::pair<std::string, std::string>> bad = {
    {"/admin/v1/advertisers?limit=0", "limit"},
    {"/admin/v1/advertisers?limit=501", "limit"},
    {"/admin/v1/advertisers?limit=-1", "limit"},
    {"/admin/v1/advertisers?limit=abc", "limit"},
    {"/admin/v1/advertisers?limit=", "limit"},
    {"/admin/v1/advertisers?limit=7.5", "limit"},
    {"/admin/v1/advertisers?cursor=abc", "cursor"},
    {"/admin/v1/advertisers?cursor=", "cursor"},
    {"/admin/v1/advertisers?cursor=-3", "cursor"},
    {"/admin/v1/advertisers?cursor=0", "cursor"},
    {"/admin/v1/advertisers?cursor=99999999999999999999999", "cursor"},
    {"/admin/v1/advertisers?status=DELETED", "status"},
    {"/admin/v1/advertisers?status=active", "status"},
    {"/admin/v1/campaigns?limit=1000", "limit"},
    {"/admin/v1/campaigns?cursor=x1", "cursor"},
    {"/admin/v1/campaigns?status=RUNNING", "status"},
    {"/admin/v1/campaigns?advertiser_id=abc", "advertiser_id"},
    {"/admin/v1/campaigns?advertiser_id=0", "advertiser_id"},
    {"/admin/v1/campaigns?advertiser_id=-4", "advertiser_id"},
  };
  for (auto& [target, field] : bad) {
    auto r = server->admin("GET", target);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(r.json["error"]["code"], "VALIDATION_FAILED") << target << " " << r.body;
    EXPECT_EQ(r.json["error"]["details"]["field"], field) << target << " " << r.body;
  }
}

TEST_F(Lists, OnlyTheAdminTokenLists) {
  for (std::string target : {"/admin/v1/advertisers", "/admin/v1/campaigns"}) {
    auto anonymous = server->call("GET", target);
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;
    EXPECT_EQ(anonymous.json["error"]["code"], "UNAUTHORIZED");
    auto wrong = http_call(server->port(), "GET", target, "", "not-the-token-0123456789");
    EXPECT_EQ(wrong.status, 401) << wrong.body;
  }
  // An advertiser API key reads its own advertiser only: no listings.
  auto key = server->admin("POST", "/admin/v1/advertisers/" + std::to_string(rows->first)
                                     + "/api-keys");
  ASSERT_EQ(key.status, 201) << key.body;
  std::string api_key = key.json.value("api_key", "");
  ASSERT_FALSE(api_key.empty()) << key.body;
  for (const std::string& target : std::vector<std::string>{
         "/admin/v1/advertisers",
         "/admin/v1/campaigns?advertiser_id=" + std::to_string(rows->first)}) {
    http_result r;
    // The key registry may take a moment to learn a new key.
    for (int i = 0; i < 50; ++i) {
      r = http_call(server->port(), "GET", target, "", api_key);
      if (r.status != 401)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(r.status, 403) << target << " " << r.body;
  }
}

}  // namespace
