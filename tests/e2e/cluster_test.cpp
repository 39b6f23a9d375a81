// Three real adserver processes on loopback form one cluster (docs/cluster.md):
// every node answers for every entity and names its owner; a click arriving
// at one node is charged once, by the owner; a change made through one node
// reaches every node's auctions within a second; a node killed with -9 gives
// its advertisers to the survivors within 5 s and takes them back when it
// returns, without losing or doubling a charge.
#include "storage/redis_connection.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <random>
#include <set>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

/// Whether a TCP port on the loopback address can be bound now.
bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// A TCP port nobody listens on now, below the kernel's ephemeral range: a
/// port from that range can be taken by any outgoing connection (a node's
/// connection to PostgreSQL, say) before the node binds it.
int free_port() {
  int ephemeral_low = 32768;
  if (std::ifstream range{"/proc/sys/net/ipv4/ip_local_port_range"}; range)
    range >> ephemeral_low;
  int low = 10000;
  int high = ephemeral_low > low + 1000 ? ephemeral_low - 1 : 30000;
  static std::mt19937 rng{std::random_device{}()};
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = std::uniform_int_distribution<int>(low, high)(rng);
    if (bindable(port))
      return port;
  }
  return 0;
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
    // A port taken between the choice and the node's bind is chosen again.
    for (int attempt = 0;; ++attempt) {
      nodes[i] = std::make_unique<server_process>(flags(i));
      if (nodes[i]->start())
        break;
      if (attempt == 2 || nodes[i]->output().find("cannot publish the gateway") == std::string::npos)
        return false;
      actor_ports[i] = free_port();
    }
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

public:
  /// owners_agree_on, public for the helpers below.
  std::string owner_of(int64_t advertiser) { return owners_agree_on(advertiser); }
  std::string last_term;

protected:
  /// A new ACTIVE campaign on `term`, created through node 0, that every
  /// node's auction serves (and agrees who owns).
  test_campaign served_everywhere(const std::string& term, int device) {
    auto m = active_search_campaign(*c.nodes[0], term);
    owners_agree_on(m.advertiser);
    for (auto& n : c.nodes)
      EXPECT_EQ(ads(*n, term, device).size(), 1u);
    return m;
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
    // Ready, with the cluster joined.
    auto ready = n->call("GET", "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(ready.json["components"]["cluster"], "up") << ready.body;
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
  // Every node's auction for the term runs and serves the campaign.
  auto m = served_everywhere(term, 2);
  ASSERT_FALSE(HasFailure());
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

TEST_F(Cluster, ASessionsExperimentCodesLiveOnItsOwnerWhicheverNodeServesIt) {
  auto suffix = unique_suffix();
  auto first = active_search_campaign(*c.nodes[0], "sess1" + suffix);
  auto second = active_search_campaign(*c.nodes[1], "sess2" + suffix);
  owners_agree_on(first.advertiser);
  owners_agree_on(second.advertiser);
  // A session owned by node 2, so nodes 0 and 1 serve it as non-owners.
  std::string session;
  std::string owner;
  for (int i = 0; i < 200 && owner != c.name(2); ++i) {
    session = "cs-" + suffix + "-" + std::to_string(i);
    auto where = c.nodes[0]->admin("GET", "/admin/v1/inspect/where?session_id=" + session);
    ASSERT_EQ(where.status, 200) << where.body;
    owner = where.json.value("node", "");
  }
  ASSERT_EQ(owner, c.name(2));
  for (auto& n : c.nodes)  // every node places it alike
    EXPECT_EQ(n->admin("GET", "/admin/v1/inspect/where?session_id=" + session).json["node"],
              owner);
  auto key = "cexp_" + suffix;
  auto serve = [&](server_process& n, const std::string& term) {
    auto r = n.call("POST", "/api/v1/ads/request",
                    json{{"device_id", test_uuid("5e55", 1)}, {"session_id", session},
                         {"placement", "SEARCH"}, {"search_term", term}, {"max_ads", 1},
                         {"exp_key", key}, {"exp_var", "B"}}
                      .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["ads"].empty() ? json{} : r.json["ads"][0];
  };
  // Served before any mapping exists: every node's shards read none.
  for (auto& n : c.nodes)
    EXPECT_EQ(serve(*n, "sess1" + suffix).value("experiment_applied", true), false);
  // Mappings created through node 0 are answered once every node's shards
  // re-read them (not after their minute's refresh).
  for (auto* m : {&first, &second})
    ASSERT_EQ(c.nodes[0]
                ->admin("POST", "/admin/v1/experiments/mappings",
                        json{{"exp_key", key}, {"exp_var", "B"},
                             {"original_product_id", m->product},
                             {"experiment_product_id", m->product + "_X"},
                             {"start_date", "2026-01-01"}, {"end_date", "2099-12-31"}}
                          .dump())
                .status,
              201);
  // The first product through node 0, the second through node 1: neither owns
  // the session, so both send the codes they served to node 2.
  auto a = serve(*c.nodes[0], "sess1" + suffix);
  auto b = serve(*c.nodes[1], "sess2" + suffix);
  EXPECT_EQ(a.value("product_id", ""), first.product + "_X") << a.dump();
  EXPECT_EQ(b.value("product_id", ""), second.product + "_X") << b.dump();
  // One record holds both codes: on the owner (asked through node 1, which
  // forwards) and in the Redis mirror the owner alone writes.
  json both = {{first.product + "_X", first.product}, {second.product + "_X", second.product}};
  auto inspected = c.nodes[1]->admin("GET", "/admin/v1/inspect/sessions/" + session);
  ASSERT_EQ(inspected.status, 200) << inspected.body;
  EXPECT_EQ(inspected.header("X-Adserver-Node"), owner);
  EXPECT_EQ(inspected.json["codes"].size(), 2u) << inspected.body;
  adserver::storage::redis_connection rc{"127.0.0.1", test_redis_port()};
  ASSERT_EQ(rc.connect(), "");
  adserver::storage::redis_connection::reply rep;
  std::string err;
  json mirrored;
  for (int i = 0; i < 50 && mirrored != both; ++i) {
    ASSERT_TRUE(rc.run({"GET", "experiment:mapping:" + session}, rep, err)) << err;
    mirrored = rep.nil ? json{} : json::parse(rep.text, nullptr, false);
    if (mirrored != both)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(mirrored, both);
  // Only the owner's shards hold a session (this cluster served no other).
  auto sessions_held = [&](size_t i) {
    int64_t held = 0;
    auto r = c.nodes[i]->admin("GET", "/admin/v1/inspect/actors");
    for (auto& svc : r.json.value("services", json::array()))
      if (svc.value("kind", "") == "session-experiment")
        held += svc["figures"].value("sessions", int64_t{0});
    return held;
  };
  EXPECT_EQ(sessions_held(0), 0);
  EXPECT_EQ(sessions_held(1), 0);
  EXPECT_EQ(sessions_held(2), 1);
  // Nodes 0 and 1 signed their answers themselves and sent the codes on (the
  // first round swapped nothing, so it sent nothing).
  auto counted = [&](size_t i, const std::string& result) {
    auto metrics = c.nodes[i]->admin("GET", "/metrics").body;
    auto name = "adserver_cluster_session_codes_total{result=\"" + result + "\"} ";
    auto at = metrics.find(name);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + name.size()));
  };
  for (size_t i : {0u, 1u}) {
    EXPECT_EQ(counted(i, "sent"), 1.0) << "node " << i;  // one request with codes each
    EXPECT_EQ(counted(i, "kept"), 0.0) << "node " << i;
  }
  EXPECT_EQ(counted(2, "sent"), 0.0);
}

TEST_F(Cluster, AnApiKeyIssuedOrRevokedThroughOneNodeHoldsOnEveryNodeAtOnce) {
  auto m = active_search_campaign(*c.nodes[0], "keys" + unique_suffix());
  owners_agree_on(m.advertiser);
  auto keys = "/admin/v1/advertisers/" + std::to_string(m.advertiser) + "/api-keys";
  auto issued = c.nodes[1]->admin("POST", keys);
  ASSERT_EQ(issued.status, 201) << issued.body;
  auto key = issued.json.value("api_key", "");
  auto key_id = issued.json.value("key_id", int64_t{0});
  // Every node answers the key alike within 2 s (the periodic refresh is 30 s).
  auto everywhere = [&](int status) {
    for (int attempt = 0; attempt < 40; ++attempt) {
      bool all = true;
      for (auto& n : c.nodes)
        all = all && http_call(n->port(), "GET", "/api/v1/me", "", key).status == status;
      if (all)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(everywhere(200));
  auto revoked = c.nodes[2]->admin("DELETE", keys + "/" + std::to_string(key_id));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_TRUE(everywhere(401));
}

TEST_F(Cluster, AChangeAnsweredThroughOneNodeIsSeenByTheNextRequestOnEveryNode) {
  auto term = "ryw" + unique_suffix();
  auto m = served_everywhere(term, 4);
  ASSERT_FALSE(HasFailure());
  auto status = "/admin/v1/campaigns/" + std::to_string(m.campaign) + "/status";
  for (int round = 0; round < 3; ++round) {
    auto via = static_cast<size_t>(round) % 3;
    ASSERT_EQ(c.nodes[via]->admin("PATCH", status, R"({"status":"PAUSED"})").status, 200);
    for (auto& n : c.nodes)  // no waiting: the answer came after every node had it
      EXPECT_EQ(ads(*n, term, 5).size(), 0u) << "round " << round << ", port " << n->port();
    ASSERT_EQ(c.nodes[(via + 1) % 3]->admin("PATCH", status, R"({"status":"ACTIVE"})").status,
              200);
    for (auto& n : c.nodes)
      EXPECT_EQ(ads(*n, term, 6).size(), 1u) << "round " << round << ", port " << n->port();
  }
  // A balance emptied through one node: no node serves the advertiser next.
  ASSERT_EQ(c.nodes[1]
              ->admin("PUT", "/admin/v1/advertisers/" + std::to_string(m.advertiser) + "/balance",
                      R"({"action":"deduct","amount":1000000})")
              .status,
            200);
  for (auto& n : c.nodes)
    EXPECT_EQ(ads(*n, term, 7).size(), 0u) << "port " << n->port();
}

/// An advertiser the last node owns (created until one lands there).
test_campaign owned_by_last(Cluster& t, cluster& c, const std::string& term) {
  test_campaign m;
  std::string owner;
  for (int i = 0; i < 40 && owner != c.name(2); ++i) {
    t.last_term = term + std::to_string(i);
    m = active_search_campaign(*c.nodes[0], t.last_term);
    owner = t.owner_of(m.advertiser);
  }
  EXPECT_EQ(owner, c.name(2));
  return m;
}

TEST_F(Cluster, AKilledNodesAdvertisersServeAgainElsewhereAndComeBackWithoutLosingACharge) {
  auto term = "kill" + unique_suffix();
  auto m = owned_by_last(*this, c, term);
  auto served_term = last_term;
  // Tokens for 150 devices, fetched before the kill (any node signs them).
  std::vector<std::string> tokens;
  for (int i = 0; i < 150; ++i) {
    auto got = ads(*c.nodes[i % 2], served_term, 100 + i);
    ASSERT_EQ(got.size(), 1u);
    tokens.push_back(got[0]["token"]);
  }
  // A steady click load through the two nodes that stay, every 40 ms.
  std::atomic<int64_t> charged_sum{0};
  std::atomic<int> charged{0}, in_doubt{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> killed_at_ms{0}, first_after_kill_ms{0};
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
  };
  std::thread load([&] {
    for (size_t i = 0; i < tokens.size() && !stop; ++i) {
      auto r = c.nodes[i % 2]->call(
        "POST", "/api/v1/ads/click",
        json{{"token", tokens[i]}, {"device_id", test_uuid("c1a5", 100 + static_cast<int>(i))},
             {"session_id", "s"}}
          .dump());
      if (r.status != 200)
        ++in_doubt;  // e.g. committed by the killed node just before it died
      if (r.status == 200 && r.json["charged"] == true) {
        ++charged;
        charged_sum += r.json["amount"].get<int64_t>();
        if (killed_at_ms != 0 && first_after_kill_ms == 0)
          first_after_kill_ms = now_ms();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  c.nodes[2]->kill9();
  killed_at_ms = now_ms();
  c.nodes[2].reset();
  load.join();
  ASSERT_NE(first_after_kill_ms.load(), 0) << "no click was charged after the kill";
  EXPECT_LT(first_after_kill_ms - killed_at_ms, 5000)
    << "the advertiser did not serve again within 5 s";
  auto a = std::to_string(m.advertiser);
  // Every acknowledged click is in PostgreSQL once, and nothing else but a
  // click whose answer was lost (a 503: outcome unknown); the balance
  // reconciles with the history.
  auto clicks = std::stoll(sql_count("SELECT count(*) FROM ad_balance_histories"
                                     " WHERE transaction_type = 'CLICK' AND advertiser_id = " + a));
  auto clicked = std::stoll(sql_count("SELECT coalesce(sum(amount), 0) FROM ad_balance_histories"
                                      " WHERE transaction_type = 'CLICK' AND advertiser_id = " + a));
  EXPECT_GE(clicks, charged.load());
  EXPECT_LE(clicks, charged.load() + in_doubt.load());
  EXPECT_GE(clicked, charged_sum.load());
  EXPECT_EQ(sql_count("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(1'000'000 - clicked));
  // The node returns under its name and takes its advertiser back.
  ASSERT_TRUE(c.start(2)) << c.nodes[2]->output();
  EXPECT_TRUE(formed());
  auto path = "/admin/v1/advertisers/" + a + "/balance";
  std::string back;
  int64_t charged_after = 0;
  // A change not answered 200 is retried under its Idempotency-Key (during
  // the hand-over its outcome may be unknown), so each one counts once.
  auto key = "back-" + unique_suffix();
  for (int i = 0; i < 100 && back != c.name(2); ++i) {
    auto r = c.nodes[1]->admin("PUT", path, R"({"action":"charge","amount":7})",
                               {{"Idempotency-Key", key}});
    if (r.status == 200) {
      charged_after += 7;
      key = "back-" + unique_suffix();
    }
    back = r.status == 200 ? r.header("X-Adserver-Node") : "";
    if (back != c.name(2))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(back, c.name(2));
  EXPECT_EQ(sql_count("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(1'000'000 - clicked + charged_after));
  EXPECT_EQ(sql_count("SELECT lease_node FROM ad_balances WHERE advertiser_id = " + a), c.name(2));
}

TEST_F(Cluster, APausedOwnerThatLostItsLeaseChargesNothingWhenItResumes) {
  auto m = owned_by_last(*this, c, "pause" + unique_suffix());
  auto a = std::to_string(m.advertiser);
  auto path = "/admin/v1/advertisers/" + a + "/balance";
  // The owner's ledger is in memory with its epoch.
  ASSERT_EQ(c.nodes[2]->admin("PUT", path, R"({"action":"charge","amount":5})").status, 200);
  auto epoch = sql_count("SELECT lease_epoch FROM ad_balances WHERE advertiser_id = " + a);
  c.nodes[2]->signal(SIGSTOP);
  struct resume {
    server_process* s;
    ~resume() { if (s) s->signal(SIGCONT); }
  } guard{c.nodes[2].get()};
  // Past its lease the others take the advertiser over (a new epoch). A
  // charge may reach the owner just before it stops and commit there with
  // its answer lost (503 at the deadline: outcome unknown), so each charge is
  // retried the way a client must, under its own Idempotency-Key.
  int64_t acknowledged = 5;
  auto charge_through_0 = [&](int64_t amount) {
    auto key = "pause-" + unique_suffix();
    auto body = R"({"action":"charge","amount":)" + std::to_string(amount) + "}";
    for (int i = 0; i < 100; ++i) {
      auto r = c.nodes[0]->admin("PUT", path, body, {{"Idempotency-Key", key}});
      if (r.status == 200) {
        acknowledged += amount;
        return true;
      }
      std::cout << "charge through node 0: " << r.status << " " << r.body << std::endl;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(charge_through_0(11));
  // A replayed answer does not move the ledger: charge until node 0 holds it.
  auto current_epoch = [&] {
    return sql_count("SELECT lease_epoch FROM ad_balances WHERE advertiser_id = " + a);
  };
  for (int i = 0; i < 10 && current_epoch() == epoch; ++i)
    ASSERT_TRUE(charge_through_0(1));
  EXPECT_NE(current_epoch(), epoch);
  // A charge sent to the paused node waits in its socket; it resumes still
  // believing it owns the advertiser, with the old epoch in memory.
  http_result late;
  std::thread paused_client(
    [&] { late = c.nodes[2]->admin("PUT", path, R"({"action":"charge","amount":13})"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.nodes[2]->signal(SIGCONT);
  guard.s = nullptr;
  paused_client.join();
  // Which way it went depends on what the resumed node does first (serve the
  // request from its stale ledger, refused by the epoch; or re-read the
  // members and forward it): both are correct, shown for the log.
  std::cout << "request to the resumed node: " << late.status << " "
            << late.header("X-Adserver-Node") << " " << late.body << std::endl;
  if (late.status == 200)  // served by the new owner after all (forwarded): once
    acknowledged += 13;
  else
    EXPECT_EQ(sql_count("SELECT count(*) FROM ad_balance_histories WHERE transaction_type = 'CHARGE'"
                        " AND amount = 13 AND advertiser_id = " + a),
              "0")
      << "answered " << late.status << " but charged";
  EXPECT_EQ(sql_count("SELECT coalesce(sum(amount), 0) FROM ad_balance_histories"
                      " WHERE transaction_type = 'CHARGE' AND advertiser_id = " + a),
            std::to_string(acknowledged));
  EXPECT_EQ(sql_count("SELECT current_balance FROM ad_balances WHERE advertiser_id = " + a),
            std::to_string(1'000'000 + acknowledged));
}

}  // namespace
