// Admin API (SPEC.md "HTTP API"): JSON -> actor message -> JSON.
#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "net/idempotency.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>

namespace adserver::net {

using nlohmann::json;

namespace {

template <class T>
auto reply_with(int status) {
  return [status](const T& x) { return json_reply(status, to_json(x)); };
}

/// Parses the body into T; on failure answers and returns false.
template <class T>
bool decode_body(const route_context& ctx, const respond_fn& respond, T& out) {
  json j;
  if (auto err = parse_object(ctx.request.body, j)) {
    respond(error_reply(err));
    return false;
  }
  if (auto err = decode(j, out)) {
    respond(error_reply(err));
    return false;
  }
  return true;
}

/// Who asks, until when, and under which Idempotency-Key.
request_meta meta_of(const route_context& ctx, idempotency_ticket ticket = {}) {
  if (ticket.principal.empty())
    ticket.principal = ctx.principal;
  return {ctx.principal, deadline{ctx.request.deadline_ms}, std::move(ticket)};
}

/// Reads the Idempotency-Key; on a bad one answers and returns false.
bool ticket_of(const route_context& ctx, const respond_fn& respond, idempotency_ticket& out) {
  if (auto err = read_idempotency(ctx, out)) {
    respond(error_reply(err));
    return false;
  }
  return true;
}

/// A recorded creation's first row as the original response.
template <class Parse>
replay_fn replay_first_row(int status, Parse parse) {
  return [status, parse](const pg_results& results) {
    if (results.empty() || results[0].empty())
      return error_reply(500, "INTERNAL", "the recorded result of this key is unreadable");
    return json_reply(status, to_json(parse(results[0][0])));
  };
}

bool path_id(const route_context& ctx, const respond_fn& respond, int64_t& id) {
  if (auto err = read_id(ctx, "id", id)) {
    respond(error_reply(err));
    return false;
  }
  return true;
}

}  // namespace

bool own_advertiser(const route_context& ctx, const respond_fn& respond, int64_t id) {
  if (ctx.advertiser_id != 0 && ctx.advertiser_id != id) {
    respond(error_reply(403, "FORBIDDEN", "this key reads its own advertiser only"));
    return false;
  }
  return true;
}

void add_admin_routes(router& r, const app_context& app) {
  // -- advertisers ------------------------------------------------------------------
  r.add("POST", "/admin/v1/advertisers", true, [app](route_context& ctx, respond_fn respond) {
    advertiser_spec spec;
    idempotency_ticket ticket;
    if (!decode_body(ctx, respond, spec) || !ticket_of(ctx, respond, ticket))
      return;
    if (auto err = validate(spec))
      return respond(error_reply(err));
    auto meta = meta_of(ctx, ticket);
    idempotent(app, ticket, respond, replay_first_row(201, storage::parse_advertiser),
               [app, spec, meta](respond_fn respond) {
                 ask<advertiser_record>(app, app.registrar, respond,
                                        reply_with<advertiser_record>(201), create_atom::value,
                                        spec, meta);
               });
  });
  r.add("GET", "/admin/v1/advertisers/{id}", access::reader,
        [app](route_context& ctx, respond_fn respond) {
    int64_t id;
    if (path_id(ctx, respond, id) && own_advertiser(ctx, respond, id))
      ask_entity<ledger_actor, advertiser_record>(app, ledger_atom::value, id, respond, reply_with<advertiser_record>(200),
                 get_atom::value);
  });
  r.add("DELETE", "/admin/v1/advertisers/{id}", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (path_id(ctx, respond, id))
            ask_entity<ledger_actor, advertiser_record>(app, ledger_atom::value, id, respond, reply_with<advertiser_record>(200),
                       delete_atom::value, meta_of(ctx));
        });
  r.add("PUT", "/admin/v1/advertisers/{id}/balance", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          balance_change change;
          idempotency_ticket ticket;
          if (!path_id(ctx, respond, id) || !decode_body(ctx, respond, change)
              || !ticket_of(ctx, respond, ticket))
            return;
          if (auto err = validate(change))
            return respond(error_reply(err));
          auto meta = meta_of(ctx, ticket);
          auto replay = [](const pg_results& results) {
            auto r = storage::parse_balance_change(results);
            if (!r)
              return error_reply(500, "INTERNAL", "the recorded result of this key is unreadable");
            return json_reply(200, to_json(*r));
          };
          idempotent(app, ticket, respond, replay, [app, id, change, meta](respond_fn respond) {
            ask_entity<ledger_actor, balance_change_result>(
              app, ledger_atom::value, id, respond, reply_with<balance_change_result>(200),
              balance_atom::value, change, meta);
          });
        });
  r.add("GET", "/admin/v1/advertisers/{id}/balance", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (path_id(ctx, respond, id) && own_advertiser(ctx, respond, id))
            ask_entity<ledger_actor, balance_view>(app, ledger_atom::value, id, respond, reply_with<balance_view>(200),
                       balance_atom::value);
        });

  // -- products ---------------------------------------------------------------------
  r.add("POST", "/admin/v1/products", true, [app](route_context& ctx, respond_fn respond) {
    product_record p;
    if (!decode_body(ctx, respond, p))
      return;
    if (auto err = validate(p))
      return respond(error_reply(err));
    ask<product_record>(app, app.catalog, respond, reply_with<product_record>(201), create_atom::value, p,
        meta_of(ctx));
  });
  r.add("GET", "/admin/v1/products/{product_id}", true,
        [app](route_context& ctx, respond_fn respond) {
          auto id = ctx.params["product_id"];
          if (id.empty() || id.size() > 100)
            return respond(error_reply(validation_error("product_id", "product_id is invalid")));
          ask<product_record>(app, app.catalog, respond, reply_with<product_record>(200), get_atom::value, id);
        });

  // -- experiment mappings ----------------------------------------------------------
  r.add("POST", "/admin/v1/experiments/mappings", true,
        [app](route_context& ctx, respond_fn respond) {
          experiment_mapping m;
          if (!decode_body(ctx, respond, m))
            return;
          if (auto err = validate(m))
            return respond(error_reply(err));
          ask<experiment_mapping>(app, app.experiments, respond,
                                  reply_with<experiment_mapping>(201), create_atom::value, m,
                                  meta_of(ctx));
        });
  r.add("GET", "/admin/v1/experiments/mappings", true,
        [app](route_context& ctx, respond_fn respond) {
          auto it = ctx.request.query.find("exp_key");
          std::string key = it == ctx.request.query.end() ? "" : it->second;
          ask<experiment_mappings>(
            app, app.experiments, respond,
            [](const experiment_mappings& all) {
              json list = json::array();
              for (auto& m : all)
                list.push_back(to_json(m));
              return json_reply(200, {{"mappings", list}});
            },
            list_atom::value, key);
        });
  r.add("DELETE", "/admin/v1/experiments/mappings/{id}", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (path_id(ctx, respond, id))
            ask<experiment_mapping>(app, app.experiments, respond,
                                    reply_with<experiment_mapping>(200), delete_atom::value, id,
                                    meta_of(ctx));
        });

  // -- campaigns --------------------------------------------------------------------
  r.add("POST", "/admin/v1/campaigns", true, [app](route_context& ctx, respond_fn respond) {
    campaign_record spec;
    idempotency_ticket ticket;
    if (!decode_body(ctx, respond, spec) || !ticket_of(ctx, respond, ticket))
      return;
    auto meta = meta_of(ctx, ticket);
    idempotent(app, ticket, respond, replay_first_row(201, storage::parse_campaign),
               [app, spec, meta](respond_fn respond) {
                 ask<campaign_record>(app, app.registrar, respond,
                                      reply_with<campaign_record>(201), create_atom::value, spec,
                                      meta);
               });
  });
  r.add("GET", "/admin/v1/campaigns/{id}", access::reader,
        [app](route_context& ctx, respond_fn respond) {
    int64_t id;
    if (!path_id(ctx, respond, id))
      return;
    if (ctx.advertiser_id != 0)
      return with_readable_campaign(app, ctx, respond, id,
                                    [respond](caf::event_based_actor*, const campaign_record& c) {
                                      respond(json_reply(200, to_json(c)));
                                    });
    ask_entity<campaign_actor, campaign_record>(app, campaign_atom::value, id, respond,
                                                reply_with<campaign_record>(200), get_atom::value);
  });
  r.add("DELETE", "/admin/v1/campaigns/{id}", true, [app](route_context& ctx, respond_fn respond) {
    int64_t id;
    if (path_id(ctx, respond, id))
      ask_entity<campaign_actor, campaign_record>(app, campaign_atom::value, id, respond, reply_with<campaign_record>(200),
                 delete_atom::value, meta_of(ctx));
  });
  r.add("PATCH", "/admin/v1/campaigns/{id}/status", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          json j;
          std::string status;
          if (!path_id(ctx, respond, id))
            return;
          if (auto err = parse_object(ctx.request.body, j))
            return respond(error_reply(err));
          if (auto err = read_string(j, "status", true, status))
            return respond(error_reply(err));
          ask_entity<campaign_actor, campaign_record>(app, campaign_atom::value, id, respond, reply_with<campaign_record>(200),
                     transition_atom::value, status, meta_of(ctx));
        });
  r.add("PUT", "/admin/v1/campaigns/{id}/bids", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          json j;
          placement_bids bids;
          if (!path_id(ctx, respond, id))
            return;
          if (auto err = parse_object(ctx.request.body, j))
            return respond(error_reply(err));
          // Accept {"bids": {...}} as in campaign creation, or the bare map.
          json wrapped = j.contains("bids") ? j : json{{"bids", j}};
          if (auto err = read_bids(wrapped, "bids", bids))
            return respond(error_reply(err));
          ask_entity<campaign_actor, campaign_record>(app, campaign_atom::value, id, respond, reply_with<campaign_record>(200),
                     bids_atom::value, bids, meta_of(ctx));
        });
  r.add("PUT", "/admin/v1/campaigns/{id}/delivery", true,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          json j;
          std::string delivery;
          if (!path_id(ctx, respond, id))
            return;
          if (auto err = parse_object(ctx.request.body, j))
            return respond(error_reply(err));
          if (auto err = read_string(j, "delivery", true, delivery))
            return respond(error_reply(err));
          ask_entity<campaign_actor, campaign_record>(app, campaign_atom::value, id, respond,
                                                      reply_with<campaign_record>(200),
                                                      delivery_atom::value, delivery,
                                                      meta_of(ctx));
        });
  r.add("GET", "/admin/v1/campaigns/{id}/budget", access::reader,
        [app](route_context& ctx, respond_fn respond) {
          int64_t id;
          if (!path_id(ctx, respond, id))
            return;
          auto ask_budget = [app, id, respond] {
            ask_entity<campaign_actor, budget_view>(app, campaign_atom::value, id, respond,
                                                    reply_with<budget_view>(200),
                                                    budget_atom::value);
          };
          if (ctx.advertiser_id == 0)
            return ask_budget();
          with_readable_campaign(app, ctx, respond, id,
                                 [ask_budget](caf::event_based_actor*, const campaign_record&) {
                                   ask_budget();
                                 });
        });
}

}  // namespace adserver::net
