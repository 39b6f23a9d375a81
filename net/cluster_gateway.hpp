#pragma once
// Cluster forwarding, both ends. Any node accepts any request; one for an
// entity another node owns (an advertiser's ledger, its campaigns and their
// dashboards: placed by the advertiser) goes to that node's gateway actor
// over the CAF middleman, which runs it through its own router and sends the
// answer back. Answers name the owning node in X-Adserver-Node.
#include "net/app_context.hpp"
#include "net/router.hpp"

#include <string>

namespace caf {
class actor_system;
}

namespace adserver::net {

/// Forwarded requests waiting for their answer on the owner, at most.
constexpr size_t max_forwarded_pending = 10000;

/// The node-gateway actor: serves forwarded requests through `routes` (which
/// must outlive it), passes peers' money and campaign changes to `auctions`,
/// finishes peers' slates for the sessions this node owns on
/// `session_shards`, and has `key_refresher` re-read the API keys when a peer
/// issued or revoked one.
node_gateway_actor spawn_gateway(caf::actor_system& sys, const router& routes,
                                 auction_router_actor auctions,
                                 std::vector<session_experiment_actor> session_shards,
                                 caf::actor key_refresher, std::string node,
                                 int64_t body_limit);

/// The router's forwarder for this node (app.cluster and app.bridge set).
forward_fn make_forwarder(const app_context& app);

/// Which entity a route serves: the advertiser id it is placed by, 0 when it
/// is not an entity's (served where it arrives), -1 when a campaign must be
/// looked up first (its id in `campaign_id`). Exposed for tests.
int64_t placement_advertiser(const std::string& pattern, const route_context& ctx,
                             const std::string& hmac_secret, int64_t& campaign_id);

/// The session a route serves (placed by the session id), "" when none.
/// Exposed for tests.
std::string placement_session(const std::string& pattern, const route_context& ctx);

}  // namespace adserver::net
