// The operability building blocks without an actor system: the node's
// census and shares, reconciliation, integrity rows, realtime percentiles,
// the exposition of families, masked configuration and request ids.
#include "actors/integrity_logic.hpp"
#include "actors/reconcile_logic.hpp"
#include "config/settings.hpp"
#include "net/metrics.hpp"
#include "net/router.hpp"
#include "protocol/telemetry.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace adserver;
using namespace adserver::net;

TEST(Census, CountsActorsAndTheirLastSampledMailboxes) {
  auto& t = telemetry();
  auto kind = static_cast<size_t>(actor_kind::integrity);
  auto actors = t.actors[kind].load();
  auto mailbox = t.mailbox[kind].load();
  {
    census_entry a{actor_kind::integrity};
    census_entry b{actor_kind::integrity};
    EXPECT_EQ(t.actors[kind].load(), actors + 2);
    a.sample(5);
    b.sample(3);
    EXPECT_EQ(t.mailbox[kind].load(), mailbox + 8);
    a.sample(1);
    EXPECT_EQ(t.mailbox[kind].load(), mailbox + 4);
  }
  // Gone actors take their count and their backlog with them.
  EXPECT_EQ(t.actors[kind].load(), actors);
  EXPECT_EQ(t.mailbox[kind].load(), mailbox);
}

TEST(Census, SharesAddUpAndLeaveWithTheirOwner) {
  counter total{100};
  {
    gauge_share a{total};
    gauge_share b{total};
    a.set(30);
    b.set(12);
    EXPECT_EQ(total.load(), 142);
    a.set(10);
    EXPECT_EQ(total.load(), 122);
  }
  EXPECT_EQ(total.load(), 100);
}

TEST(Census, UnbilledReasonsMapToBoundedLabels) {
  EXPECT_EQ(unbilled_reason_of("DUPLICATE_CLICK"), unbilled_reason::duplicate_click);
  EXPECT_EQ(unbilled_reason_of("BUDGET_EXHAUSTED"), unbilled_reason::budget_exhausted);
  EXPECT_EQ(unbilled_reason_of("INSUFFICIENT_BALANCE"), unbilled_reason::insufficient_balance);
  EXPECT_EQ(unbilled_reason_of("CAMPAIGN_INACTIVE"), unbilled_reason::campaign_inactive);
  EXPECT_EQ(unbilled_reason_of("anything else"), unbilled_reason::other);
}

namespace {

advertiser_money_sources consistent_sources() {
  advertiser_money_sources s;
  s.advertiser_id = 7;
  s.postgres_balance = 1000;
  s.history_sum = 1000;
  s.memory_balance = 1000;
  s.redis_balance = "1000";
  campaign_money c;
  c.campaign_id = 70;
  c.postgres_spent = 300;
  c.memory_spent = 300;
  c.redis_spent = "300";
  s.campaigns.push_back(c);
  campaign_money idle;
  idle.campaign_id = 71;  // nothing spent today: no Redis key yet
  s.campaigns.push_back(idle);
  return s;
}

}  // namespace

TEST(Reconcile, AgreeingSourcesHaveNoDifference) {
  EXPECT_TRUE(reconcile_money(consistent_sources(), "2026-11-25").empty());
}

TEST(Reconcile, AChangedMirrorKeyIsNamed) {
  auto s = consistent_sources();
  s.redis_balance = "999";
  auto d = reconcile_money(s, "2026-11-25");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].what, "balance");
  EXPECT_EQ(d[0].key, "balance:7");
  EXPECT_EQ(*d[0].redis, "999");
  EXPECT_EQ(d[0].postgres, 1000);
}

TEST(Reconcile, MemoryHistoryAndMissingKeysEachCount) {
  auto s = consistent_sources();
  s.memory_balance = 900;
  EXPECT_EQ(reconcile_money(s, "d").size(), 1u);
  s = consistent_sources();
  s.history_sum = 1200;
  EXPECT_EQ(reconcile_money(s, "d").size(), 1u);
  s = consistent_sources();
  s.redis_balance.reset();  // the mirror lost the balance
  EXPECT_EQ(reconcile_money(s, "d").size(), 1u);
  s = consistent_sources();
  s.campaigns[0].redis_spent.reset();  // spend today, no key
  auto d = reconcile_money(s, "2026-11-25");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key, "daily_spent:70:2026-11-25");
  EXPECT_EQ(d[0].campaign_id, 70);
}

TEST(Integrity, ReadsTotalsAndSamples) {
  auto r = read_check(0, {{"12", "advertiser 3 does not exist", "41"},
                          {"15", "advertiser 4 does not exist", "41"}});
  EXPECT_EQ(r.name, "campaigns_of_missing_advertiser");
  EXPECT_EQ(r.count, 41);
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].table, "ad_campaigns");
  EXPECT_EQ(r.samples[1].id, 15);
  auto common = read_check(6, {{"9", "ad_balances: created_user_id is empty", "1"}});
  EXPECT_EQ(common.samples.at(0).table, "ad_balances");
  EXPECT_EQ(read_check(4, {}).count, 0);
}

TEST(Metrics, LastMinutePercentilesFollowTheLatencies) {
  metrics_registry m;
  for (int i = 0; i < 98; ++i)
    m.observe_request("/r", "GET", 200, 0.001);
  m.observe_request("/r", "GET", 503, 0.1);
  m.observe_request("/r", "GET", 200, 0.1);
  auto w = m.last_minute();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].count, 100u);
  EXPECT_EQ(w[0].errors, 1u);
  // Bucket bounds are at most 22 % above the true value.
  EXPECT_GE(w[0].p50, 0.001);
  EXPECT_LE(w[0].p50, 0.00122);
  EXPECT_GE(w[0].p99, 0.1);
  EXPECT_LE(w[0].p99, 0.122);
}

TEST(Metrics, InventedMethodsShareOneLabel) {
  metrics_registry m;
  m.observe_request("/r", "BREW", 405, 0.001);
  m.observe_request("/r", "COFFEE", 405, 0.001);
  auto text = m.render();
  EXPECT_EQ(text.find("BREW"), std::string::npos);
  EXPECT_NE(text.find("method=\"OTHER\",status=\"405\"} 2"), std::string::npos) << text;
}

TEST(Metrics, FamiliesRenderWithTypeHelpAndLabels) {
  metrics_registry m;
  m.add_family("adserver_things", "Things.", "gauge", [] {
    return std::vector<metrics_registry::sample>{{"", "kind=\"a\"", 2}, {"", "kind=\"b\"", 3}};
  });
  auto text = m.render();
  EXPECT_NE(text.find("# HELP adserver_things Things.\n# TYPE adserver_things gauge\n"),
            std::string::npos);
  EXPECT_NE(text.find("adserver_things{kind=\"a\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("adserver_things{kind=\"b\"} 3\n"), std::string::npos);
}

TEST(Configuration, SecretsAreMaskedForTheLog) {
  EXPECT_EQ(masked_option("admin.tokens", "ops:abcdefghijklmnopqrstuvwxyz, ci:0123456789abcdefgh"),
            "ops:****,ci:****");
  EXPECT_EQ(masked_option("security.hmac_secret", "0123456789012345678901234567890123"), "****");
  EXPECT_EQ(masked_option("postgres.conninfo", "host=db password=hunter2 user=ad"),
            "host=db password=**** user=ad");
  EXPECT_EQ(masked_option("postgres.conninfo", "postgresql://ad:hunter2@db/adserver"),
            "postgresql://ad:****@db/adserver");
  EXPECT_EQ(masked_option("postgres.conninfo", "password='a b\\'c d' host=db"),
            "password=**** host=db");
  EXPECT_EQ(masked_option("http.port", "8080"), "8080");
}

namespace {

std::string request_id_of(const router& r, const std::string& path, const std::string& sent) {
  http_request req;
  req.method = "GET";
  req.path = path;
  if (!sent.empty())
    req.headers["x-request-id"] = sent;
  std::string id;
  r.dispatch(req, [&](http_reply reply) {
    for (auto& [k, v] : reply.headers)
      if (k == "X-Request-Id")
        id = v;
  });
  return id;
}

}  // namespace

TEST(RequestId, EveryAnswerCarriesOneAndASaneClientIdIsKept) {
  router r;
  r.set_metrics(std::make_shared<metrics_registry>());
  r.add("GET", "/ok", false, [](route_context&, respond_fn respond) { respond(http_reply{}); });
  EXPECT_EQ(request_id_of(r, "/ok", "abc-123.x:y_z"), "abc-123.x:y_z");
  auto fresh = request_id_of(r, "/ok", "");
  EXPECT_EQ(fresh.size(), 32u);
  EXPECT_NE(fresh, request_id_of(r, "/ok", ""));
  // Ids that could forge log lines or headers are replaced.
  auto replaced = request_id_of(r, "/ok", "a b\"c");
  EXPECT_EQ(replaced.size(), 32u);
  EXPECT_EQ(request_id_of(r, "/ok", std::string(129, 'a')).size(), 32u);
  // 404s too.
  EXPECT_EQ(request_id_of(r, "/nowhere", "mine"), "mine");
}

TEST(RequestId, AnAnswerAfterTheServersOwn503IsCountedAsThat503) {
  auto metrics = std::make_shared<metrics_registry>();
  router r;
  r.set_metrics(metrics);
  r.add("GET", "/slow", false, [](route_context&, respond_fn respond) { respond(http_reply{}); });
  http_request req;
  req.method = "GET";
  req.path = "/slow";
  req.answer_by_ms = 1;  // long past
  r.dispatch(req, [](http_reply) {});
  auto text = metrics->render();
  EXPECT_NE(text.find("route=\"/slow\",method=\"GET\",status=\"503\"} 1"), std::string::npos)
    << text;
  EXPECT_EQ(text.find("status=\"200\""), std::string::npos);
}
