// adctl advertisers and campaigns: every row, following next_cursor from the
// first page to the last (--limit is the page size, not a cap on the rows).
// Each page is printed as it arrives, so memory stays one page whatever the
// number of rows: a table goes on under its header, --json writes one
// {"items":[...],"next_cursor":null} document item by item (one item a line).
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <unordered_set>

namespace adctl {

using nlohmann::json;

namespace {

/// Walks a listing (`target` already carries its query) from its first page
/// to its last, handing each page's items to `on_page` as it arrives; the
/// number of items. The cursor is opaque (docs/openapi.yaml): the walk stops
/// with a failure when the node hands back a cursor it gave before, which
/// would make it go round for ever.
size_t walk(admin_api& api, const std::string& target,
            const std::function<void(json& items)>& on_page) {
  std::unordered_set<std::string> seen;
  std::string cursor;
  size_t count = 0;
  for (;;) {
    auto page = api.get(cursor.empty() ? target : target + "&cursor=" + encode_component(cursor));
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array())
      throw failure("the node's page has no 'items' list");
    count += page["items"].size();
    on_page(page["items"]);
    auto next = page.value("next_cursor", json(nullptr));
    if (next.is_null())
      return count;
    if (!next.is_string() || next.get_ref<const std::string&>().empty())
      throw failure("the node's next_cursor is no cursor (" + next.dump() + "); stopped after "
                    + std::to_string(count) + " row(s)");
    if (!seen.insert(next.get<std::string>()).second)
      throw failure("the node's next_cursor '" + next.get<std::string>()
                    + "' came back a second time: the listing goes round; stopped after "
                    + std::to_string(count) + " row(s)");
    cursor = next.get<std::string>();
  }
}

/// --json: one {"items":[...],"next_cursor":null} document written as the
/// pages arrive, one compact item a line; nothing before the first page
/// (an error then leaves stdout empty).
class json_items_writer {
public:
  void page(const json& items) {
    for (auto& item : items) {
      std::cout << (started_ ? ",\n    " : "{\n  \"items\": [\n    ")
                << item.dump(-1, ' ', false, json::error_handler_t::replace);
      started_ = true;
    }
    std::cout.flush();
  }
  void finish() {
    std::cout << (started_ ? "\n  ]" : "{\n  \"items\": []") << ",\n  \"next_cursor\": null\n}\n";
  }

private:
  bool started_ = false;
};

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

std::string activated(const json& x) {
  return x.value("activated", 1) == 1 ? "yes" : "no";
}

/// Walks `target`, printing each page as it arrives: `row` turns an item
/// into the table's cells. `what`: "advertiser" in "3 advertiser(s)".
int list(invocation& inv, const std::string& target, std::vector<std::string> headers,
         const std::function<std::vector<std::string>(const json&)>& row, const char* what) {
  auto& api = inv.api();
  if (inv.json) {
    json_items_writer out;
    walk(api, target, [&out](json& items) { out.page(items); });
    out.finish();
    return 0;
  }
  table t(std::move(headers));
  auto count = walk(api, target, [&](json& items) {
    for (auto& item : items)
      t.add(row(item));
    t.stream(std::cout);
  });
  t.stream(std::cout);  // the header alone when there was no row
  std::cout << count << " " << what << "(s)\n";
  return 0;
}

}  // namespace

int run_advertisers(invocation& inv) {
  auto target = "/admin/v1/advertisers" + page_query(inv)
                + status_filter(inv, {"ACTIVE", "INACTIVE"});
  return list(inv, target,
              {"ID", "NAME", "BUSINESS_NUMBER", "TYPE", "STATUS", "ACTIVATED", "BALANCE"},
              [](const json& a) -> std::vector<std::string> {
                return {text(a, "id"), text(a, "advertiser_name"), text(a, "business_number"),
                        text(a, "business_type"), text(a, "status"), activated(a),
                        text(a, "balance")};
              },
              "advertiser");
}

int run_campaigns(invocation& inv) {
  auto target = "/admin/v1/campaigns" + page_query(inv)
                + status_filter(inv, {"ACTIVE", "PAUSED", "PENDING", "ENDED"});
  if (inv.has("--advertiser"))
    target += "&advertiser_id="
              + std::to_string(positive_integer(inv.flag_or("--advertiser", ""), "--advertiser"));
  return list(inv, target,
              {"ID", "ADVERTISER", "NAME", "STATUS", "ACTIVATED", "START", "END", "DAILY_BUDGET",
               "TOTAL_BUDGET", "BIDS"},
              [](const json& c) -> std::vector<std::string> {
                std::string bids;
                if (c.contains("bids") && c["bids"].is_object())
                  for (auto it = c["bids"].begin(); it != c["bids"].end(); ++it)
                    bids += (bids.empty() ? "" : ",") + it.key() + "=" + text(it.value());
                return {text(c, "id"), text(c, "advertiser_id"), text(c, "campaign_name"),
                        text(c, "status"), activated(c), text(c, "start_date"),
                        text(c, "end_date"), text(c, "daily_budget"), text(c, "total_budget"),
                        bids.empty() ? "-" : bids};
              },
              "campaign");
}

}  // namespace adctl
