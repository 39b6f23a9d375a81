// GET /admin/v1/inspect/nodes and /admin/v1/inspect/where: the cluster as
// this node sees it (docs/cluster.md), for adctl nodes and adctl where.
#include "actors/cluster_view.hpp"
#include "actors/experiment_logic.hpp"
#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace adserver::net {

using nlohmann::json;

namespace {

/// An id of the query (1..), or 0 after answering 400.
int64_t query_id(const route_context& ctx, const char* name, const respond_fn& respond) {
  int64_t id = 0;
  if (auto err = read_query_id(ctx, name, id)) {
    respond(error_reply(err));
    return 0;
  }
  return id;
}

json node_json(const cluster_view& view, const std::string& node) {
  auto m = view.member(node);
  return {{"node", node},
          {"http_url", m ? json(m->http_url) : json(nullptr)},
          {"self", node == view.self()}};
}

/// Where advertiser `id` lives: its placement, and the lease holder in
/// PostgreSQL (they differ for a moment while a ledger moves).
void answer_advertiser(const app_context& app, int64_t advertiser, json out, respond_fn respond) {
  auto view = app.cluster;
  auto owner = view->owner_of_advertiser(advertiser);
  auto where = node_json(*view, owner);
  for (auto& [k, v] : where.items())
    out[k] = v;
  ask<pg_rows>(app, app.io.reader, respond,
               [base = std::move(out)](const pg_rows& rows) {
                 auto out = base;
                 if (rows.empty())
                   return error_reply(404, "NOT_FOUND",
                                      "advertiser " + out["advertiser_id"].dump()
                                        + " has no balance row",
                                      "{\"advertiser_id\":" + out["advertiser_id"].dump() + "}");
                 out["lease_node"] = rows[0].at(0).empty() ? json(nullptr) : json(rows[0].at(0));
                 out["lease_epoch"] = storage::to_int(rows[0].at(1));
                 return json_reply(200, out);
               },
               query_atom::value, storage::ledger_lease_read(advertiser));
}

}  // namespace

void add_cluster_routes(router& r, const app_context& app) {
  r.add("GET", "/admin/v1/inspect/nodes", true, [app](route_context&, respond_fn respond) {
    if (!app.cluster)
      return respond(error_reply(404, "NOT_FOUND", "this node keeps no cluster view"));
    auto view = app.cluster;
    ask<pg_rows>(
      app, app.io.reader, respond,
      [view](const pg_rows& rows) {
        std::map<std::string, int64_t> leases;
        for (auto& row : rows)
          leases[row.at(0)] = storage::to_int(row.at(1));
        auto placed = view->placement_nodes();
        auto peers = view->peers();
        json nodes = json::array();
        for (auto& m : view->members()) {
          bool is_self = m.node_id == view->self();
          nodes.push_back(
            {{"node", m.node_id},
             {"self", is_self},
             {"http_url", m.http_url},
             {"actor_address",
              m.actor_port > 0 ? json(m.actor_host + ":" + std::to_string(m.actor_port))
                               : json(nullptr)},
             {"live", m.live},
             {"reachable", is_self || peers.count(m.node_id) > 0},
             {"placed", std::find(placed.begin(), placed.end(), m.node_id) != placed.end()},
             {"heartbeat_at", m.heartbeat_at},
             {"started_at", m.started_at},
             {"ledger_leases", leases.count(m.node_id) ? leases[m.node_id] : 0}});
        }
        return json_reply(200, {{"node", view->self()},
                                {"clustered", view->clustered()},
                                {"placement_nodes", placed},
                                {"nodes", std::move(nodes)}});
      },
      query_atom::value, storage::lease_counts());
  });

  r.add("GET", "/admin/v1/inspect/where", true, [app](route_context& ctx, respond_fn respond) {
    if (!app.cluster)
      return respond(error_reply(404, "NOT_FOUND", "this node keeps no cluster view"));
    auto& q = ctx.request.query;
    if (q.count("advertiser_id") + q.count("campaign_id") + q.count("session_id") != 1)
      return respond(error_reply(400, "VALIDATION_FAILED",
                                 "name exactly one of advertiser_id, campaign_id, session_id",
                                 "{\"field\":\"advertiser_id\"}"));
    if (q.count("session_id")) {
      auto session_id = q.at("session_id");
      if (auto err = check_session_id(session_id))
        return respond(error_reply(err));
      json out = {
        {"kind", "session"},
        {"session_id", session_id},
        {"placed", true},
        {"shard", session_shard(session_id, std::max<size_t>(1, app.session_shards.size()))}};
      auto where = node_json(*app.cluster, app.cluster->owner_of_session(session_id));
      for (auto& [k, v] : where.items())
        out[k] = v;
      return respond(json_reply(200, out));
    }
    if (q.count("advertiser_id")) {
      auto id = query_id(ctx, "advertiser_id", respond);
      if (id == 0)
        return;
      return answer_advertiser(app, id, {{"kind", "advertiser"}, {"advertiser_id", id}, {"placed", true}},
                               std::move(respond));
    }
    auto id = query_id(ctx, "campaign_id", respond);
    if (id == 0)
      return;
    app.bridge->run([app, id, respond](caf::event_based_actor* self) {
      self->request(app.io.reader, actor_timeout, query_atom::value,
                    storage::campaign_advertiser(id))
        .then(
          [app, id, respond](const pg_rows& rows) {
            if (rows.empty()) {
              respond(error_reply(404, "NOT_FOUND",
                                  "campaign " + std::to_string(id) + " does not exist",
                                  "{\"campaign_id\":" + std::to_string(id) + "}"));
              return;
            }
            auto advertiser = storage::to_int(rows[0].at(0));
            answer_advertiser(app, advertiser,
                              {{"kind", "campaign"},
                               {"campaign_id", id},
                               {"advertiser_id", advertiser},
                               {"placed", true}},
                              respond);
          },
          [respond](caf::error& err) { respond(error_reply(err)); });
    });
  });
}

}  // namespace adserver::net
