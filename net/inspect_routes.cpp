// Inspection (/admin/v1/inspect/...): what the actors hold, through the
// common status protocol and a few read-only messages; what adctl shows.
#include "actors/experiment_logic.hpp"
#include "actors/reconcile_logic.hpp"
#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "protocol/telemetry.hpp"
#include "storage/integrity_statements.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace adserver::net {

using nlohmann::json;

namespace {

bool path_id(const route_context& ctx, const respond_fn& respond, const char* name,
             int64_t& id) {
  if (auto err = read_id(ctx, name, id)) {
    respond(error_reply(err));
    return false;
  }
  return true;
}

json campaign_spend_json(const campaign_spend& c) {
  return {{"campaign_id", c.campaign_id},     {"daily_budget", c.daily_budget},
          {"total_budget", c.total_budget},   {"spent_today", c.spent_today},
          {"spent_total", c.spent_total},     {"day", c.day},
          {"max_bid", c.max_bid},             {"serving", c.serving}};
}

json auction_json(const auction_view& v) {
  json ranked = json::array();
  for (auto& l : v.ranked)
    ranked.push_back({{"rank", l.rank},
                      {"campaign_id", l.campaign_id},
                      {"advertiser_id", l.advertiser_id},
                      {"product_id", l.product_id},
                      {"bid", l.bid},
                      {"pctr", l.pctr},
                      {"score", l.score},
                      {"price", l.price},
                      {"impressions", l.impressions},
                      {"clicks", l.clicks},
                      {"baseline_ctr", l.baseline_ctr}});
  return {{"key", v.key},
          {"loaded_day", v.loaded_day},
          {"candidates_targeted", v.candidates},
          {"candidates", ranked},
          {"status", to_json(v.status)}};
}

json optional_int(const std::optional<int64_t>& x) {
  return x ? json(*x) : json(nullptr);
}

json optional_text(const std::optional<std::string>& x) {
  return x ? json(*x) : json(nullptr);
}

json difference_json(const money_difference& d) {
  return {{"advertiser_id", d.advertiser_id},
          {"what", d.what},
          {"campaign_id", d.what == "daily_spent" ? json(d.campaign_id) : json(nullptr)},
          {"key", d.key},
          {"memory", optional_int(d.memory)},
          {"postgres", d.postgres},
          {"history", optional_int(d.history)},
          {"redis", optional_text(d.redis)}};
}

/// What a reconciliation gathers; shared by its concurrent reads.
struct reconciliation {
  std::string today;
  std::map<int64_t, advertiser_money_sources> advertisers;
  std::map<int64_t, int64_t> owner_of_campaign;  // campaign -> advertiser
  std::set<int64_t> in_memory;                   // ledgers asked
  std::set<int64_t> pending;  // ledgers with writes in flight: memory not compared
  bool truncated = false;     // the statements' row limits were reached
  int64_t after_id = 0;       // this page: advertisers with a greater id
  int64_t next_after_id = 0;  // the next page's after_id (0: this was the last)
  respond_fn respond;
  bool failed = false;
};

/// Rows the reconciliation statements return at most (storage/integrity_statements.cpp).
constexpr size_t max_advertisers = 10000;
constexpr size_t max_campaigns = 20000;
/// Ledgers asked at once (the rest wait their turn).
constexpr size_t memory_window = 64;
using reconciliation_ptr = std::shared_ptr<reconciliation>;

void fail(const reconciliation_ptr& r, const caf::error& err) {
  if (r->failed)
    return;
  r->failed = true;
  r->respond(error_reply(err));
}

void answer(const reconciliation_ptr& r) {
  // Ledgers of this page only (the whole node's in memory were asked).
  for (auto it = r->pending.begin(); it != r->pending.end();)
    it = r->advertisers.count(*it) > 0 ? std::next(it) : r->pending.erase(it);
  size_t in_memory = 0;
  for (auto id : r->in_memory)
    in_memory += r->advertisers.count(id);
  json differences = json::array();
  for (auto& [id, sources] : r->advertisers)
    for (auto& d : reconcile_money(sources, r->today))
      differences.push_back(difference_json(d));
  bool consistent = differences.empty();
  r->respond(json_reply(200, {{"checked", r->advertisers.size()},
                              {"day", r->today},
                              {"ledgers_in_memory", in_memory},
                              {"pending", r->pending},
                              {"truncated", r->truncated},
                              {"next_after_id", r->next_after_id != 0 ? json(r->next_after_id)
                                                                       : json(nullptr)},
                              {"consistent", consistent},
                              {"differences", std::move(differences)}}));
}

/// Step 3: the Redis mirror, in chunks of MGET.
void read_mirror(caf::event_based_actor* self, const app_context& app, reconciliation_ptr r) {
  std::vector<std::string> keys;
  for (auto& [id, a] : r->advertisers) {
    keys.push_back("balance:" + std::to_string(id));
    for (auto& c : a.campaigns)
      keys.push_back("daily_spent:" + std::to_string(c.campaign_id) + ":" + r->today);
  }
  constexpr size_t chunk = 1000;
  auto chunks = std::make_shared<size_t>((keys.size() + chunk - 1) / chunk);
  if (*chunks == 0)
    return answer(r);
  for (size_t at = 0; at < keys.size(); at += chunk) {
    std::vector<std::string> part(keys.begin() + static_cast<std::ptrdiff_t>(at),
                                  keys.begin()
                                    + static_cast<std::ptrdiff_t>(std::min(keys.size(), at + chunk)));
    self->request(app.io.redis, actor_timeout, get_atom::value, part)
      .then(
        [=](const std::vector<std::string>& values) {
          for (size_t i = 0; i < part.size() && i < values.size(); ++i) {
            if (values[i].empty())
              continue;  // no such key
            auto& key = part[i];
            auto colon = key.find(':');
            auto id = std::stoll(key.substr(colon + 1));
            if (key.rfind("balance:", 0) == 0) {
              r->advertisers[id].redis_balance = values[i];
            } else if (auto owner = r->owner_of_campaign.find(id);
                       owner != r->owner_of_campaign.end()) {
              for (auto& c : r->advertisers[owner->second].campaigns)
                if (c.campaign_id == id)
                  c.redis_spent = values[i];
            }
          }
          if (--*chunks == 0 && !r->failed)
            answer(r);
        },
        [=](caf::error& err) { fail(r, err); });
  }
}

/// Step 2: PostgreSQL (balances with their history sums, today's spend).
void read_database(caf::event_based_actor* self, const app_context& app, reconciliation_ptr r,
                   int64_t advertiser_id, std::map<int64_t, ledger_money_view> memory) {
  // A ledger with writes in flight is ahead of PostgreSQL by them: its
  // memory is not compared this time (it is listed as pending).
  for (auto it = memory.begin(); it != memory.end();) {
    if (it->second.inflight > 0) {
      r->pending.insert(it->first);
      it = memory.erase(it);
    } else {
      ++it;
    }
  }
  auto reader = app.reporting_reader ? app.reporting_reader : app.dashboard_reader();
  self->request(reader, actor_timeout, query_atom::value,
                storage::reconcile_balances(advertiser_id, r->after_id))
    .then(
      [=](const pg_rows& rows) {
        if (advertiser_id != 0 && rows.empty())
          return fail(r, make_error(ec::not_found, "advertiser "
                                                     + std::to_string(advertiser_id)
                                                     + " does not exist"));
        // A full page: more advertisers may follow (not a truncation).
        if (advertiser_id == 0 && rows.size() >= max_advertisers)
          r->next_after_id = storage::to_int(rows.back().at(0));
        for (auto& row : rows) {
          auto& a = r->advertisers[storage::to_int(row.at(0))];
          a.advertiser_id = storage::to_int(row.at(0));
          a.postgres_balance = storage::to_int(row.at(1));
          a.history_sum = storage::to_int(row.at(2));
          if (auto m = memory.find(a.advertiser_id); m != memory.end())
            a.memory_balance = m->second.view.balance;
        }
        self->request(reader, actor_timeout, query_atom::value,
                      storage::reconcile_spend(advertiser_id, r->today, r->after_id))
          .then(
            [=](const pg_rows& rows) {
              r->truncated = r->truncated || rows.size() >= max_campaigns;
              for (auto& row : rows) {
                auto campaign = storage::to_int(row.at(0));
                auto owner = storage::to_int(row.at(1));
                auto it = r->advertisers.find(owner);
                if (it == r->advertisers.end())
                  continue;
                campaign_money c;
                c.campaign_id = campaign;
                c.postgres_spent = storage::to_int(row.at(2));
                if (auto m = memory.find(owner); m != memory.end())
                  for (auto& held : m->second.view.campaigns)
                    if (held.campaign_id == campaign && held.day == r->today)
                      c.memory_spent = held.spent_today;
                it->second.campaigns.push_back(std::move(c));
                r->owner_of_campaign[campaign] = owner;
              }
              read_mirror(self, app, r);
            },
            [=](caf::error& err) { fail(r, err); });
      },
      [=](caf::error& err) { fail(r, err); });
}

/// Asks the held ledgers (ids and handles aligned) for their money, at most
/// memory_window at a time; then step 2.
struct memory_walk {
  held_ledgers held;
  size_t next = 0;
  size_t outstanding = 0;
  std::map<int64_t, ledger_money_view> memory;
};

void ask_next_ledgers(caf::event_based_actor* self, const app_context& app,
                      reconciliation_ptr r, std::shared_ptr<memory_walk> walk) {
  if (r->failed)
    return;
  if (walk->next >= walk->held.ids.size() && walk->outstanding == 0)
    return read_database(self, app, r, 0, std::move(walk->memory));
  while (walk->next < walk->held.ids.size() && walk->outstanding < memory_window) {
    auto id = walk->held.ids[walk->next];
    auto ledger = walk->held.ledgers[walk->next];
    ++walk->next;
    ++walk->outstanding;
    self->request(ledger, actor_timeout, inspect_atom::value)
      .then(
        [=](const ledger_money_view& v) {
          walk->memory[id] = v;
          --walk->outstanding;
          ask_next_ledgers(self, app, r, walk);
        },
        [=](caf::error&) {  // retired meanwhile: no memory to compare
          --walk->outstanding;
          ask_next_ledgers(self, app, r, walk);
        });
  }
}

/// Step 1: the ledgers' memory first (a charge reaches memory before
/// PostgreSQL and Redis, so reading it first keeps races from looking like
/// differences in the other direction). All advertisers: only the ledgers
/// already in memory, asked directly (not through the directory, and without
/// counting as use); one advertiser: its ledger, activated if need be.
void read_memory(caf::event_based_actor* self, const app_context& app, reconciliation_ptr r,
                 int64_t advertiser_id) {
  if (advertiser_id != 0) {
    self->request(app.directory, actor_timeout, ledger_atom::value, advertiser_id)
      .then(
        [=](ledger_actor& ledger) {
          r->in_memory.insert(advertiser_id);
          self->request(ledger, actor_timeout, inspect_atom::value)
            .then(
              [=](const ledger_money_view& v) {
                read_database(self, app, r, advertiser_id, {{advertiser_id, v}});
              },
              [=](caf::error& err) { fail(r, err); });
        },
        [=](caf::error& err) { fail(r, err); });  // e.g. no such advertiser
    return;
  }
  self->request(app.directory, actor_timeout, list_atom::value, ledger_atom::value)
    .then(
      [=](held_ledgers& held) {
        // Pages before this one are done: their ledgers are not asked again
        // (ids and handles stay aligned).
        held_ledgers page;
        for (size_t i = 0; i < held.ids.size() && i < held.ledgers.size(); ++i)
          if (held.ids[i] > r->after_id) {
            page.ids.push_back(held.ids[i]);
            page.ledgers.push_back(held.ledgers[i]);
          }
        held = std::move(page);
        r->in_memory.insert(held.ids.begin(), held.ids.end());
        auto walk = std::make_shared<memory_walk>();
        walk->held = std::move(held);
        ask_next_ledgers(self, app, r, walk);
      },
      [=](caf::error& err) { fail(r, err); });
}

void add_reconcile_route(router& r, const app_context& app) {
  r.add("GET", "/admin/v1/inspect/reconcile", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t advertiser_id = 0;
          if (auto q = ctx.request.query.find("advertiser_id"); q != ctx.request.query.end()) {
            char* end = nullptr;
            errno = 0;
            auto v = std::strtoll(q->second.c_str(), &end, 10);
            if (q->second.empty() || *end != '\0' || errno != 0 || v <= 0)
              return respond(error_reply(
                validation_error("advertiser_id", "advertiser_id must be a positive integer")));
            advertiser_id = v;
          }
          auto rec = std::make_shared<reconciliation>();
          if (ctx.request.query.count("after_id")) {
            if (auto err = read_query_id(ctx, "after_id", rec->after_id))
              return respond(error_reply(err));
            if (advertiser_id != 0)
              return respond(error_reply(validation_error(
                "after_id", "after_id pages the whole node; not with advertiser_id")));
          }
          rec->today = business_today();
          rec->respond = respond;
          app.bridge->run(
            [=](caf::event_based_actor* self) { read_memory(self, app, rec, advertiser_id); });
        });
}

/// The status records of the node's single actors (I/O actors, directory,
/// catalog, ...), gathered in parallel; one that does not answer within a
/// second is listed with its error instead.
struct status_gathering {
  respond_fn respond;
  json actors;
  std::vector<json> services;
  size_t waiting = 0;
  std::string node;

  void done() {
    if (--waiting > 0)
      return;
    json list = json::array();
    for (auto& s : services)
      list.push_back(std::move(s));
    respond(json_reply(200, {{"node", node},
                             {"actors", std::move(actors)},
                             {"services", std::move(list)}}));
  }
};

template <class Handle>
void ask_status(caf::event_based_actor* self, const std::shared_ptr<status_gathering>& g,
                const Handle& handle, const std::string& name) {
  auto slot = g->services.size();
  g->services.push_back(json{{"name", name}});
  ++g->waiting;
  self->request(handle, std::chrono::seconds(1), status_atom::value)
    .then(
      [g, slot, name](const status_record& r) {
        auto j = to_json(r);
        j["name"] = name;
        g->services[slot] = std::move(j);
        g->done();
      },
      [g, slot](caf::error& err) {
        g->services[slot]["error"] = caf::to_string(err);
        g->done();
      });
}

}  // namespace

void add_inspect_routes(router& r, const app_context& app) {
  r.add("GET", "/admin/v1/inspect/actors", true, [app](route_context&, respond_fn respond) {
    auto& t = telemetry();
    json actors = json::array();
    for (size_t i = 0; i < actor_kind_count; ++i)
      actors.push_back({{"kind", kind_name(static_cast<actor_kind>(i))},
                        {"count", t.actors[i].load(std::memory_order_relaxed)},
                        {"mailbox", std::max<int64_t>(0, t.mailbox[i].load(std::memory_order_relaxed))}});
    auto g = std::make_shared<status_gathering>();
    g->respond = respond;
    g->actors = std::move(actors);
    g->node = app.node_name;
    app.bridge->run([=](caf::event_based_actor* self) {
      g->waiting = 1;  // released below, once every request is out
      auto maybe = [&](const auto& handle, const std::string& name) {
        if (handle)
          ask_status(self, g, handle, name);
      };
      maybe(app.directory, "directory");
      maybe(app.auction_router, "auction-router");
      maybe(app.registrar, "registrar");
      maybe(app.membership, "membership");
      maybe(app.catalog, "product-catalog");
      maybe(app.conversions, "conversions");
      maybe(app.experiments, "experiments");
      maybe(app.integrity, "integrity");
      maybe(app.traffic, "traffic");
      maybe(app.io.writer, "pg-writer");
      maybe(app.counters_writer, "pg-writer (counters)");
      maybe(app.io.reader, "pg-reader");
      maybe(app.reporting_reader, "pg-reader (reporting)");
      for (size_t i = 0; i < app.dashboard_readers.size(); ++i)
        maybe(app.dashboard_readers[i], "pg-reader (dashboards " + std::to_string(i) + ")");
      maybe(app.io.redis, "redis-writer");
      maybe(app.io.kafka, "kafka-producer");
      maybe(app.io.dashboards, "dashboards");
      maybe(app.streams, "stream-reader");
      for (size_t i = 0; i < app.session_shards.size(); ++i)
        maybe(app.session_shards[i], "session-experiment " + std::to_string(i));
      g->done();
    });
  });

  r.add("GET", "/admin/v1/inspect/ledgers/{advertiser_id}", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (!path_id(ctx, respond, "advertiser_id", id))
            return;
          app.bridge->run([=](caf::event_based_actor* self) {
            auto failed = [=](caf::error& err) { respond(error_reply(err)); };
            self->request(app.directory, actor_timeout, ledger_atom::value, id)
              .then(
                [=](ledger_actor& ledger) {
                  self->request(ledger, actor_timeout, status_atom::value)
                    .then(
                      [=](const status_record& status) {
                        self->request(ledger, actor_timeout, get_atom::value)
                          .then(
                            [=](const advertiser_record& adv) {
                              self->request(ledger, actor_timeout, balance_atom::value)
                                .then(
                                  [=](const balance_view& v) {
                                    json campaigns = json::array();
                                    for (auto& c : v.campaigns)
                                      campaigns.push_back(campaign_spend_json(c));
                                    respond(json_reply(200, {{"status", to_json(status)},
                                                             {"advertiser", to_json(adv)},
                                                             {"campaigns", campaigns}}));
                                  },
                                  failed);
                            },
                            failed);
                      },
                      failed);
                },
                failed);
          });
        });

  r.add("GET", "/admin/v1/inspect/campaigns/{id}", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (!path_id(ctx, respond, "id", id))
            return;
          app.bridge->run([=](caf::event_based_actor* self) {
            auto failed = [=](caf::error& err) { respond(error_reply(err)); };
            self->request(app.directory, actor_timeout, campaign_atom::value, id)
              .then(
                [=](campaign_actor& campaign) {
                  self->request(campaign, actor_timeout, status_atom::value)
                    .then(
                      [=](const status_record& status) {
                        self->request(campaign, actor_timeout, get_atom::value)
                          .then(
                            [=](const campaign_record& c) {
                              respond(json_reply(
                                200, {{"status", to_json(status)}, {"campaign", to_json(c)}}));
                            },
                            failed);
                      },
                      failed);
                },
                failed);
          });
        });

  r.add("GET", "/admin/v1/inspect/auctions/{placement}", true,
        [app](route_context& ctx, respond_fn respond) {
          ad_request req;
          req.placement = ctx.params["placement"];
          req.device_id = "00000000-0000-4000-8000-000000000000";
          req.session_id = "inspect";
          auto& q = ctx.request.query;
          if (auto it = q.find("category"); it != q.end())
            req.category = it->second;
          if (auto it = q.find("term"); it != q.end())
            req.search_term = it->second;
          else if (auto it = q.find("search_term"); it != q.end())
            req.search_term = it->second;
          if (auto err = check_ad_request(req))
            return respond(error_reply(err));
          ask<auction_view>(app, app.auction_router, respond,
                            [](const auction_view& v) { return json_reply(200, auction_json(v)); },
                            inspect_atom::value, req);
        });

  r.add("GET", "/admin/v1/inspect/sessions/{session_id}", true,
        [app](route_context& ctx, respond_fn respond) {
          auto session_id = ctx.params["session_id"];
          if (auto err = check_session_id(session_id))
            return respond(error_reply(err));
          if (app.session_shards.empty())
            return respond(error_reply(404, "NOT_FOUND", "this node keeps no sessions"));
          auto shard = session_shard(session_id, app.session_shards.size());
          ask<session_view>(
            app, app.session_shards[shard], respond,
            [session_id, shard](const session_view& v) {
              if (!v.found)
                return error_reply(404, "NOT_FOUND",
                                   "session " + session_id
                                     + " has no experiment codes in memory on this node",
                                   "{\"session_id\":" + json_quote(session_id) + "}");
              json codes = json::array();
              for (auto& [experiment, original] : v.mapping.codes)
                codes.push_back({{"exp_key", v.mapping.exp_key},
                                 {"exp_var", v.mapping.exp_var},
                                 {"original", original},
                                 {"experiment", experiment}});
              return json_reply(
                200, {{"session_id", session_id},
                      {"shard", shard},
                      {"exp_key", v.mapping.exp_key},
                      {"exp_var", v.mapping.exp_var},
                      {"expires_at", iso8601(std::chrono::system_clock::time_point{
                                       std::chrono::seconds{v.mapping.expires_at}})},
                      {"codes", std::move(codes)}});
            },
            inspect_atom::value, session_id);
        });

  add_reconcile_route(r, app);
}

}  // namespace adserver::net
