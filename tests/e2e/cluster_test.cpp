// Three real adserver processes on loopback form one cluster (docs/cluster.md):
// every node answers for every entity and names its owner; a click arriving
// at one node is charged once, by the owner; a change made through one node
// reaches every node's auctions within a second; a node killed with -9 gives
// its advertisers to the survivors within 5 s and takes them back when it
// returns, without losing or doubling a charge.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

/// A TCP port nobody listens on now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct cluster {
  std::string prefix = "ct-" + unique_suffix();
  std::vector<int> actor_ports;
  std::vector<std::unique_ptr<server_process>> nodes;
  std::string brokers;
  std::string token = "cluster-admin-token-" + unique_suffix();

  std::map<std::string, std::string> flags(size_t i) const {
    return {{"node.name", prefix + "-" + std::to_string(i)},
            {"cluster.actor_port", std::to_string(actor_ports[i])},
            {"cluster.heartbeat_ms", "300"},
            {"cluster.lease_ms", "1500"},
            {"http.max_connections_per_address", "1000"},
            {"kafka.brokers", i == 0 ? "embedded" : brokers},
            {"admin.tokens", "tester:" + token}};
  }
  bool start(size_t i) {
    nodes[i] = std::make_unique<server_process>(flags(i));
    if (!nodes[i]->start())
      return false;
    if (i == 0)
      brokers = nodes[0]->kafka_bootstrap();
    return true;
  }
  std::string name(size_t i) const { return prefix + "-" + std::to_string(i); }
  size_t index_of(const std::string& node) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (name(i) == node)
        return i;
    return nodes.size();
  }
};

std::string sql_count(const std::string& q) {
  return sql_one(q);
}

class Cluster : public ::testing::Test {
protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i)
      c.actor_ports.push_back(free_port());
    c.nodes.resize(3);
    for (size_t i = 0; i < 3; ++i)
      ASSERT_TRUE(c.start(i)) << c.nodes[i]->output();
    ASSERT_TRUE(formed());
  }

  /// Every running node places keys on every running node (it read them
  /// live in cluster_members and reached their gateways); waits up to 10 s.
  bool formed() {
    size_t running = 0;
    for (auto& n : c.nodes)
      running += n ? 1 : 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
      bool all = true;
      for (auto& n : c.nodes) {
        if (!n)
          continue;
        auto r = n->admin("GET", "/admin/v1/inspect/actors");
        int64_t placed = 0;
        for (auto& svc : r.json.value("services", json::array()))
          if (svc.value("kind", "") == "membership")
            placed = svc["figures"].value("placement_nodes", int64_t{0});
        all = all && placed == static_cast<int64_t>(running);
      }
      if (all)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  /// The owner every node names for the advertiser's balance (waits, up to
  /// 10 s, until all three answer 200 and agree); "" if they never do.
  std::string owners_agree_on(int64_t advertiser) {
    auto path = "/admin/v1/advertisers/" + std::to_string(advertiser) + "/balance";
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::set<std::string> named;
      bool all_ok = true;
      for (auto& n : c.nodes) {
        if (!n)
          continue;
        auto r = n->admin("GET", path);
        all_ok = all_ok && r.status == 200;
        named.insert(r.header("X-Adserver-Node"));
      }
      if (all_ok && named.size() == 1 && !named.begin()->empty())
        return *named.begin();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the nodes never agreed on the owner of advertiser " << advertiser;
    return "";
  }

  json ads(server_process& s, const std::string& term, int device) {
    auto r = s.call("POST", "/api/v1/ads/request",
                    json{{"device_id", test_uuid("c1a5", device)}, {"session_id", "s"},
                         {"placement", "SEARCH"}, {"search_term", term}, {"max_ads", 1}}
                      .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["ads"];
  }

  cluster c;
};

TEST_F(Cluster, EveryNodeAnswersForEveryEntityAndAClickIsChargedOnceByItsOwner) {
  std::set<std::string> owners;
  std::vector<test_campaign> made;
  auto term = "cluster" + unique_suffix();
  for (int i = 0; i < 12; ++i) {
    // Created through any node: campaigns are created on their advertiser's owner.
    made.push_back(active_search_campaign(*c.nodes[i % 3], term + std::to_string(i)));
    owners.insert(owners_agree_on(made.back().advertiser));
  }
  EXPECT_GE(owners.size(), 2u) << "12 advertisers all placed on one node";
  // Every node lists the three, live, reached and placed.
  for (auto& n : c.nodes) {
    auto nodes = n->admin("GET", "/admin/v1/inspect/nodes");
    ASSERT_EQ(nodes.status, 200) << nodes.body;
    int placed = 0;
    for (auto& row : nodes.json["nodes"])
      if (c.index_of(row["node"]) < 3) {
        EXPECT_EQ(row["live"], true) << nodes.body;
        EXPECT_EQ(row["reachable"], true) << nodes.body;
        placed += row["placed"] == true ? 1 : 0;
      }
    EXPECT_EQ(placed, 3) << nodes.body;
  }
  for (auto& o : owners)
    EXPECT_LT(c.index_of(o), 3u) << o;
  // A click through a node that does not own the advertiser.
  auto& m = made[0];
  auto owner = owners_agree_on(m.advertiser);
  auto other = (c.index_of(owner) + 1) % 3;
  auto got = ads(*c.nodes[other], term + "0", 1);
  ASSERT_EQ(got.size(), 1u);
  auto token = got[0]["token"].get<std::string>();
  auto click = c.nodes[other]->call(
    "POST", "/api/v1/ads/click",
    json{{"token", token}, {"device_id", test_uuid("c1a5", 1)}, {"session_id", "s"}}.dump());
  ASSERT_EQ(click.status, 200) << click.body;
  EXPECT_EQ(click.json["charged"], true) << click.body;
  EXPECT_EQ(click.header("X-Adserver-Node"), owner);
  // The same token again, through the third node: a duplicate, not a charge.
  auto third = (c.index_of(owner) + 2) % 3;
  auto again = c.nodes[third]->call(
    "POST", "/api/v1/ads/click",
    json{{"token", token}, {"device_id", test_uuid("c1a5", 1)}, {"session_id", "s"}}.dump());
  EXPECT_EQ(again.json["charged"], false) << again.body;
  auto a = std::to_string(m.advertiser);
  EXPECT_EQ(sql_count("SELECT count(*) FROM ad_balance_histories WHERE transaction_type = 'CLICK'"
                      " AND advertiser_id = " + a),
            "1");
  EXPECT_EQ(sql_count("SELECT lease_node FROM ad_balances WHERE advertiser_id = " + a), owner);
  // adctl where's answer, from a node that is not the owner.
  auto where = c.nodes[other]->admin("GET", "/admin/v1/inspect/where?campaign_id="
                                              + std::to_string(m.campaign));
  ASSERT_EQ(where.status, 200) << where.body;
  EXPECT_EQ(where.json["node"], owner) << where.body;
  EXPECT_EQ(where.json["lease_node"], owner) << where.body;
  auto price = click.json["amount"].get<int64_t>();
  EXPECT_EQ(sql_count("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(1'000'000 - price));
}

TEST_F(Cluster, APauseThroughOneNodeLeavesEveryNodesAuctionsWithinASecond) {
  auto term = "pause" + unique_suffix();
  auto m = active_search_campaign(*c.nodes[0], term);
  owners_agree_on(m.advertiser);
  // Every node's auction for the term runs and serves the campaign.
  for (auto& n : c.nodes)
    ASSERT_EQ(ads(*n, term, 2).size(), 1u);
  auto paused = c.nodes[2]->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(m.campaign)
                                             + "/status",
                                  R"({"status":"PAUSED"})");
  ASSERT_EQ(paused.status, 200) << paused.body;
  auto at = std::chrono::steady_clock::now();
  for (auto& n : c.nodes) {
    size_t served = 1;
    while (served != 0 && std::chrono::steady_clock::now() - at < std::chrono::seconds(1)) {
      served = ads(*n, term, 3).size();
      if (served != 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(served, 0u) << "node on port " << n->port() << " still serves a paused campaign";
  }
}

TEST_F(Cluster, AKilledNodesAdvertisersServeAgainElsewhereAndComeBackWithoutLosingACharge) {
  // An advertiser the last node owns (created until one lands there).
  test_campaign m;
  std::string owner;
  for (int i = 0; i < 40 && owner != c.name(2); ++i) {
    m = active_search_campaign(*c.nodes[0], "kill" + unique_suffix());
    owner = owners_agree_on(m.advertiser);
  }
  ASSERT_EQ(owner, c.name(2));
  auto path = "/admin/v1/advertisers/" + std::to_string(m.advertiser) + "/balance";
  int64_t acknowledged = 0;
  auto charge_via = [&](size_t node) {
    auto r = c.nodes[node]->admin("PUT", path, R"({"action":"charge","amount":7})");
    if (r.status == 200)
      acknowledged += 7;
    return r;
  };
  ASSERT_EQ(charge_via(0).status, 200);
  c.nodes[2]->kill9();
  c.nodes[2].reset();
  auto killed = std::chrono::steady_clock::now();
  std::string served_by;
  while (std::chrono::steady_clock::now() - killed < std::chrono::seconds(10)) {
    auto r = charge_via(0);
    if (r.status == 200) {
      served_by = r.header("X-Adserver-Node");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(took, std::chrono::seconds(5)) << "the advertiser did not serve again within 5 s";
  EXPECT_TRUE(served_by == c.name(0) || served_by == c.name(1)) << served_by;
  // The node returns under its name and takes its advertiser back.
  ASSERT_TRUE(c.start(2)) << c.nodes[2]->output();
  EXPECT_TRUE(formed());
  std::string back;
  for (int i = 0; i < 100 && back != c.name(2); ++i) {
    auto r = charge_via(1);
    back = r.status == 200 ? r.header("X-Adserver-Node") : "";
    if (back != c.name(2))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(back, c.name(2));
  // Every acknowledged charge is in PostgreSQL once; the balance reconciles.
  auto a = std::to_string(m.advertiser);
  EXPECT_EQ(sql_count("SELECT coalesce(sum(amount), 0) FROM ad_balance_histories"
                      " WHERE transaction_type = 'CHARGE' AND advertiser_id = " + a),
            std::to_string(acknowledged));
  EXPECT_EQ(sql_count("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(1'000'000 + acknowledged));
  EXPECT_EQ(sql_count("SELECT lease_node FROM ad_balances WHERE advertiser_id = " + a), c.name(2));
}

}  // namespace
