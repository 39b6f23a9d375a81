// GET /admin/v1/advertisers and GET /admin/v1/campaigns: every row, one
// bounded page at a time. Keyset pagination (WHERE id > cursor ORDER BY id
// LIMIT n+1): a page costs the same however deep the walk, and rows created
// or deleted meanwhile never shift the others. Pages come from PostgreSQL on a
// dashboard reader, so a walk over every row neither activates entity actors
// nor queues in front of the serving path's reads. Items are built by the
// same parsers and writers as the single GETs.
#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace adserver::net {

using nlohmann::json;

namespace {

constexpr int64_t default_page = 100;
constexpr int64_t max_page = 500;

/// A positive decimal integer without sign or leading zeros, below 10^18.
std::optional<int64_t> positive_decimal(const std::string& s) {
  if (s.empty() || s.size() > 18 || s[0] == '0')
    return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9')
      return std::nullopt;
  return std::stoll(s);
}

const std::string* query_value(const http_request& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? nullptr : &it->second;
}

/// What every listing reads: page size and where the previous page ended.
struct page_request {
  int64_t limit = default_page;
  int64_t after_id = 0;  // 0: the first page
};

caf::error read_page(const http_request& req, page_request& out) {
  if (auto* limit = query_value(req, "limit")) {
    auto n = positive_decimal(*limit);
    if (!n || *n > max_page)
      return validation_error("limit", "limit must be an integer from 1 to "
                                         + std::to_string(max_page));
    out.limit = *n;
  }
  // The cursor is the last id of the previous page. Clients treat it as
  // opaque; anything but what next_cursor gave is refused, not guessed at.
  if (auto* cursor = query_value(req, "cursor")) {
    auto id = positive_decimal(*cursor);
    if (!id)
      return validation_error("cursor", "cursor must be a next_cursor of an earlier page");
    out.after_id = *id;
  }
  return caf::none;
}

/// `field` (optional) must be one of `allowed`; "" when absent.
caf::error read_choice(const http_request& req, const char* field,
                       std::initializer_list<const char*> allowed, std::string& out) {
  auto* value = query_value(req, field);
  if (!value)
    return caf::none;
  for (auto* a : allowed)
    if (*value == a) {
      out = *value;
      return caf::none;
    }
  std::string names;
  for (auto* a : allowed)
    names += (names.empty() ? "" : ", ") + std::string{a};
  return validation_error(field, std::string{field} + " must be one of " + names);
}

/// Runs the page statement (asking for one row more than the page holds, to
/// know whether another page follows) and answers {items, next_cursor}.
template <class Parse>
void answer_page(const app_context& app, respond_fn respond, pg_statement stmt, int64_t limit,
                 Parse parse) {
  auto reader = app.dashboard_reader();
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(reader, actor_timeout, query_atom::value, stmt)
      .then(
        [=](pg_rows& rows) {
          bool more = static_cast<int64_t>(rows.size()) > limit;
          if (more)
            rows.resize(static_cast<size_t>(limit));
          json items = json::array();
          int64_t last_id = 0;
          for (auto& row : rows) {
            auto record = parse(row);
            last_id = record.id;
            items.push_back(to_json(record));
          }
          json next = more ? json(std::to_string(last_id)) : json(nullptr);
          respond(json_reply(200, {{"items", std::move(items)}, {"next_cursor", next}}));
        },
        [=](caf::error& err) { respond(error_reply(err)); });
  });
}

}  // namespace

void add_list_routes(router& r, const app_context& app) {
  r.add("GET", "/admin/v1/advertisers", access::admin,
        [app](route_context& ctx, respond_fn respond) {
          page_request page;
          std::string status;
          if (auto err = read_page(ctx.request, page))
            return respond(error_reply(err));
          if (auto err = read_choice(ctx.request, "status", {"ACTIVE", "INACTIVE"}, status))
            return respond(error_reply(err));
          answer_page(app, respond,
                      storage::advertiser_page(page.after_id, status, page.limit + 1),
                      page.limit, storage::parse_advertiser);
        });
  r.add("GET", "/admin/v1/campaigns", access::admin,
        [app](route_context& ctx, respond_fn respond) {
          page_request page;
          std::string status;
          int64_t advertiser_id = 0;
          if (auto err = read_page(ctx.request, page))
            return respond(error_reply(err));
          if (auto err = read_choice(ctx.request, "status",
                                     {"ACTIVE", "PAUSED", "PENDING", "ENDED"}, status))
            return respond(error_reply(err));
          if (auto* adv = query_value(ctx.request, "advertiser_id")) {
            auto id = positive_decimal(*adv);
            if (!id)
              return respond(error_reply(
                validation_error("advertiser_id", "advertiser_id must be a positive integer")));
            advertiser_id = *id;
          }
          answer_page(app, respond,
                      storage::campaign_page(page.after_id, advertiser_id, status,
                                             page.limit + 1),
                      page.limit, storage::parse_campaign);
        });
}

}  // namespace adserver::net
