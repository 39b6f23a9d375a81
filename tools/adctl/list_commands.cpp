// adctl advertisers and campaigns: every row, following next_cursor from the
// first page to the last (--limit is the page size, not a cap on the rows).
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace adctl {

using nlohmann::json;

namespace {

/// Every item of a listing; `target` already carries its query.
json walk(admin_api& api, const std::string& target) {
  json items = json::array();
  std::string cursor;
  for (;;) {
    auto page = api.get(cursor.empty() ? target : target + "&cursor=" + encode_component(cursor));
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array())
      throw failure("the node's page has no 'items' list");
    for (auto& item : page["items"])
      items.push_back(std::move(item));
    auto next = page.value("next_cursor", json(nullptr));
    if (next.is_null())
      return items;
    if (!next.is_string() || next.get<std::string>() == cursor)
      throw failure("the node's next_cursor does not move on");
    cursor = next.get<std::string>();
  }
}

std::string page_query(const invocation& inv) {
  std::string limit = "100";
  if (inv.has("--limit")) {
    auto n = positive_integer(inv.flag_or("--limit", ""), "--limit");
    if (n > 500)
      throw usage_error("--limit must be from 1 to 500 (the page size), not " + std::to_string(n));
    limit = std::to_string(n);
  }
  return "?limit=" + limit;
}

std::string status_filter(const invocation& inv, std::initializer_list<const char*> allowed) {
  if (!inv.has("--status"))
    return "";
  auto s = inv.flag_or("--status", "");
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string names;
  for (auto* a : allowed) {
    if (s == a)
      return "&status=" + s;
    names += (names.empty() ? "" : ", ") + std::string{a};
  }
  throw usage_error("--status must be one of " + names + ", not '" + inv.flag_or("--status", "")
                    + "'");
}

/// --json: the walk as one page that holds every item.
void print_all_json(const json& items) {
  print_json(std::cout, json{{"items", items}, {"next_cursor", nullptr}});
}

std::string activated(const json& x) {
  return x.value("activated", 1) == 1 ? "yes" : "no";
}

}  // namespace

int run_advertisers(invocation& inv) {
  auto target = "/admin/v1/advertisers" + page_query(inv)
                + status_filter(inv, {"ACTIVE", "INACTIVE"});
  auto items = walk(inv.api(), target);
  if (inv.json) {
    print_all_json(items);
    return 0;
  }
  table t({"ID", "NAME", "BUSINESS_NUMBER", "TYPE", "STATUS", "ACTIVATED", "BALANCE"});
  for (auto& a : items)
    t.add({text(a, "id"), text(a, "advertiser_name"), text(a, "business_number"),
           text(a, "business_type"), text(a, "status"), activated(a), text(a, "balance")});
  t.print(std::cout);
  std::cout << items.size() << " advertiser(s)\n";
  return 0;
}

int run_campaigns(invocation& inv) {
  auto target = "/admin/v1/campaigns" + page_query(inv)
                + status_filter(inv, {"ACTIVE", "PAUSED", "PENDING", "ENDED"});
  if (inv.has("--advertiser"))
    target += "&advertiser_id="
              + std::to_string(positive_integer(inv.flag_or("--advertiser", ""), "--advertiser"));
  auto items = walk(inv.api(), target);
  if (inv.json) {
    print_all_json(items);
    return 0;
  }
  table t({"ID", "ADVERTISER", "NAME", "STATUS", "ACTIVATED", "START", "END", "DAILY_BUDGET",
           "TOTAL_BUDGET", "BIDS"});
  for (auto& c : items) {
    std::string bids;
    if (c.contains("bids") && c["bids"].is_object())
      for (auto it = c["bids"].begin(); it != c["bids"].end(); ++it)
        bids += (bids.empty() ? "" : ",") + it.key() + "=" + text(it.value());
    t.add({text(c, "id"), text(c, "advertiser_id"), text(c, "campaign_name"), text(c, "status"),
           activated(c), text(c, "start_date"), text(c, "end_date"), text(c, "daily_budget"),
           text(c, "total_budget"), bids.empty() ? "-" : bids});
  }
  t.print(std::cout);
  std::cout << items.size() << " campaign(s)\n";
  return 0;
}

}  // namespace adctl
