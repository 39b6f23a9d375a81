// Rendezvous placement: every node agrees on the owner, keys spread evenly,
// and a membership change moves only the keys it must.
#include "actors/cluster_view.hpp"
#include "actors/placement.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace adserver;

namespace {

std::map<std::string, std::string> owners(const std::vector<std::string>& nodes, int keys) {
  std::map<std::string, std::string> out;
  for (int i = 1; i <= keys; ++i)
    out[advertiser_key(i)] = rendezvous_owner(nodes, advertiser_key(i));
  return out;
}

TEST(Placement, OrderOfTheMemberListDoesNotMatter) {
  for (int i = 1; i <= 200; ++i)
    EXPECT_EQ(rendezvous_owner({"a", "b", "c"}, advertiser_key(i)),
              rendezvous_owner({"c", "a", "b"}, advertiser_key(i)));
  EXPECT_EQ(rendezvous_owner({}, "advertiser:1"), "");
  EXPECT_EQ(rendezvous_owner({"only"}, "advertiser:1"), "only");
}

TEST(Placement, KeysSpreadOverTheNodes) {
  std::map<std::string, int> count;
  for (auto& [key, node] : owners({"node-1", "node-2", "node-3"}, 30000))
    ++count[node];
  ASSERT_EQ(count.size(), 3u);
  for (auto& [node, n] : count) {
    EXPECT_GT(n, 9000) << node;
    EXPECT_LT(n, 11000) << node;
  }
}

TEST(Placement, ANodeLeavingMovesOnlyItsOwnKeys) {
  auto before = owners({"node-1", "node-2", "node-3"}, 5000);
  auto after = owners({"node-1", "node-3"}, 5000);
  int moved = 0;
  for (auto& [key, node] : before) {
    if (node == "node-2") {
      EXPECT_NE(after[key], "node-2");
      ++moved;
    } else {
      EXPECT_EQ(after[key], node) << key << " moved though its node stayed";
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Placement, ANodeJoiningTakesKeysOnlyForItself) {
  auto before = owners({"node-1", "node-2"}, 5000);
  auto after = owners({"node-1", "node-2", "node-3"}, 5000);
  for (auto& [key, node] : after)
    if (node != "node-3")
      EXPECT_EQ(before[key], node) << key << " moved between nodes that stayed";
}

TEST(ClusterView, ASingleNodeOwnsEverything) {
  cluster_view alone{"n1", false};
  cluster_member peer;
  peer.node_id = "n2";
  peer.live = true;
  peer.actor_port = 4000;
  alone.set_members({peer});
  for (int i = 1; i <= 50; ++i)
    EXPECT_EQ(alone.owner_of_advertiser(i), "n1");
}

TEST(ClusterView, ANodeTakingPeersIsSettledOnlyAfterItsFirstRoundOfMembers) {
  cluster_view alone{"n1", false};
  EXPECT_TRUE(alone.settled());  // a single node has nobody to wait for
  cluster_view joining{"n1", true};
  EXPECT_FALSE(joining.settled());
  joining.set_members({});
  EXPECT_FALSE(joining.settled());  // read, but connections not yet tried
  joining.mark_settled();
  EXPECT_TRUE(joining.settled());
}

TEST(ClusterView, PlacesOverLiveMembersThatTakePeers) {
  cluster_view view{"n1", true};
  auto member = [](const std::string& id, bool live, int64_t port) {
    cluster_member m;
    m.node_id = id;
    m.live = live;
    m.actor_port = port;
    return m;
  };
  auto generation = view.generation();
  view.set_members({member("n1", true, 4001), member("n2", true, 4002),
                    member("dead", false, 4003), member("single", true, 0)});
  // Live, but not reached yet: nothing is placed on it.
  EXPECT_EQ(view.placement_nodes(), (std::vector<std::string>{"n1"}));
  view.set_peer("n2", node_gateway_actor{});
  view.set_peer("dead", node_gateway_actor{});
  EXPECT_EQ(view.placement_nodes(), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_NE(view.generation(), generation);
  std::set<std::string> session_owners;
  for (int i = 1; i <= 50; ++i) {
    EXPECT_EQ(view.owner_of_advertiser(i), rendezvous_owner({"n1", "n2"}, advertiser_key(i)));
    auto session = "s-" + std::to_string(i);
    EXPECT_EQ(view.owner_of_session(session), rendezvous_owner({"n1", "n2"}, session_key(session)));
    session_owners.insert(view.owner_of_session(session));
  }
  EXPECT_EQ(session_owners.size(), 2u);  // sessions spread too
  // The same members again: no new generation.
  generation = view.generation();
  view.set_members({member("n1", true, 4001), member("n2", true, 4002)});
  EXPECT_EQ(view.generation(), generation);
}

}  // namespace

#include "actors/tracking_token.hpp"
#include "net/cluster_gateway.hpp"
#include "protocol/business_time.hpp"

namespace {

using adserver::net::http_request;
using adserver::net::placement_advertiser;
using adserver::net::route_context;

int64_t placed(const std::string& method, const std::string& pattern,
               std::map<std::string, std::string> params, const std::string& body,
               int64_t& campaign, std::map<std::string, std::string> query = {}) {
  http_request req;
  req.method = method;
  req.body = body;
  req.query = std::move(query);
  route_context ctx{req, std::move(params), {}};
  return placement_advertiser(pattern, ctx, "secret-0123456789abcdef", campaign);
}

TEST(Forwarding, EachRouteIsPlacedByItsAdvertiser) {
  int64_t campaign = 0;
  EXPECT_EQ(placed("PUT", "/admin/v1/advertisers/{id}/balance", {{"id", "42"}}, "", campaign), 42);
  EXPECT_EQ(placed("GET", "/admin/v1/inspect/reconcile", {}, "", campaign,
                   {{"advertiser_id", "7"}}),
            7);
  EXPECT_EQ(placed("PATCH", "/admin/v1/campaigns/{id}/status", {{"id", "9"}}, "", campaign), -1);
  EXPECT_EQ(campaign, 9);  // looked up first
  EXPECT_EQ(placed("GET", "/api/v1/campaigns/{id}/dashboard/stream", {{"id", "9"}}, "", campaign),
            0);  // streams read Redis where they arrive
  EXPECT_EQ(placed("POST", "/admin/v1/campaigns", {}, R"({"advertiser_id":5})", campaign), 5);
  EXPECT_EQ(placed("POST", "/admin/v1/campaigns", {}, "not json", campaign), 0);
  EXPECT_EQ(placed("POST", "/api/v1/ads/request", {}, "{}", campaign), 0);
  EXPECT_EQ(placed("PUT", "/admin/v1/advertisers/{id}/balance", {{"id", "4x"}}, "", campaign), 0);
  // A click goes to the token's advertiser; a token that does not verify
  // stays where it arrived (its handler refuses it).
  adserver::token_claims claims;
  claims.advertiser_id = 31;
  claims.campaign_id = 3;
  claims.expires_at = adserver::epoch_seconds() + 600;
  auto token = adserver::sign_token(claims, "secret-0123456789abcdef");
  EXPECT_EQ(placed("POST", "/api/v1/ads/click", {}, "{\"token\":\"" + token + "\"}", campaign), 31);
  EXPECT_EQ(placed("POST", "/api/v1/ads/click", {}, "{\"token\":\"" + token + "x\"}", campaign), 0);
}

TEST(Forwarding, ASessionsCodesAreAskedOfTheSessionsOwner) {
  http_request req;
  req.method = "GET";
  auto session_of = [&](const std::string& pattern, std::map<std::string, std::string> params) {
    route_context ctx{req, std::move(params), {}};
    return adserver::net::placement_session(pattern, ctx);
  };
  EXPECT_EQ(session_of("/admin/v1/inspect/sessions/{session_id}", {{"session_id", "s-1"}}), "s-1");
  // A malformed id is answered 400 where it arrives.
  EXPECT_EQ(session_of("/admin/v1/inspect/sessions/{session_id}",
                       {{"session_id", std::string(200, 'x')}}),
            "");
  EXPECT_EQ(session_of("/admin/v1/advertisers/{id}", {{"id", "4"}}), "");
}

}  // namespace
