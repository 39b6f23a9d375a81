// The ad path without bridge or directory: the reply sink answers exactly
// once, and the published auction table routes requests, answers the ones no
// campaign can match, and never lets a retirement overtake a routed request.
#include "actors/auction_routes.hpp"
#include "actors/system_setup.hpp"
#include "protocol/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

using namespace adserver;

namespace {

struct answers {
  std::mutex mtx;
  std::vector<std::pair<size_t, caf::error>> seen;  // (ads, error)
};

serve_reply recording(std::shared_ptr<answers> log) {
  return serve_reply{[log](served_ads&& ads, const caf::error& err) {
    std::lock_guard<std::mutex> guard{log->mtx};
    log->seen.emplace_back(ads.size(), err);
  }};
}

ad_request search(const std::string& term) {
  ad_request r;
  r.placement = "SEARCH";
  r.search_term = term;
  r.device_id = "3f2b8f0e-4a7c-4a57-9a1e-0c1d2e3f4a5b";
  r.session_id = "s";
  return r;
}

struct config : caf::actor_system_config {
  config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

/// Stands in for an auction: answers each request with one ad, in mailbox
/// order, and records whether retire_atom came before a request.
caf::behavior fake_auction(caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> order) {
  return {
    [=](serve_atom, ad_request&, serve_reply& reply) {
      if (order->load() < 0)
        return;  // served after retirement: the test fails on the missing answer
      order->fetch_add(1);
      served_ad ad;
      reply(served_ads{ad});
    },
    [=](retire_atom) {
      order->store(-1000000);
      self->quit();
    },
  };
}

}  // namespace

TEST(ServeReply, AnswersOnceWhateverIsCalled) {
  auto log = std::make_shared<answers>();
  auto reply = recording(log);
  auto copy = reply;  // what a message makes
  reply(served_ads(2));
  copy(served_ads(3));
  copy.fail(make_error(ec::internal, "late"));
  ASSERT_EQ(log->seen.size(), 1u);
  EXPECT_EQ(log->seen[0].first, 2u);
  EXPECT_FALSE(log->seen[0].second);
}

TEST(ServeReply, ADroppedRequestIsAnsweredUnavailable) {
  auto log = std::make_shared<answers>();
  {
    auto reply = recording(log);
    auto copy = reply;
  }  // every copy gone, nobody answered
  ASSERT_EQ(log->seen.size(), 1u);
  EXPECT_EQ(log->seen[0].second.code(), static_cast<uint8_t>(ec::unavailable));
}

TEST(AuctionRoutes, UnmatchedOnceTargetingIsLoaded) {
  auction_routes routes;
  auto log = std::make_shared<answers>();
  auto req = search("laptop");
  auto reply = recording(log);
  // Before the first load every request may match: the router decides.
  EXPECT_EQ(routes.serve(req, reply), auction_routes::outcome::not_running);
  routes.add_targeting({"laptop"}, {});
  routes.set_targeting_loaded();
  auto other = search("random-term");
  EXPECT_EQ(routes.serve(other, reply), auction_routes::outcome::unmatched);
  EXPECT_EQ(routes.unmatched(), 1);
  EXPECT_EQ(routes.serve(req, reply), auction_routes::outcome::not_running);
  std::string key;
  EXPECT_TRUE(routes.key_for(req, key));
  EXPECT_EQ(key, "SEARCH:laptop");
}

TEST(AuctionRoutes, RoutedRequestsAreServedBeforeARetirement) {
  config cfg;
  caf::actor_system sys{cfg};
  auction_routes routes;
  routes.add_targeting({"laptop"}, {});
  routes.set_targeting_loaded();
  auto order = std::make_shared<std::atomic<int>>(0);
  auto a = caf::actor_cast<auction_actor>(sys.spawn(fake_auction, order));
  routes.put("SEARCH:laptop", a);
  auto log = std::make_shared<answers>();
  std::atomic<int> sent{0};
  std::atomic<int> missed{0};  // not routed: their replies answer 503 when dropped
  // Requests race a retirement done as the router does it: unpublish, then
  // retire. Every request the table sent must be answered with its ad.
  auto sender = std::async(std::launch::async, [&] {
    while (missed.load() < 10) {
      auto req = search("laptop");
      auto reply = recording(log);
      if (routes.serve(req, reply) == auction_routes::outcome::sent)
        sent.fetch_add(1);
      else
        ++missed;
    }
  });
  while (sent.load() < 100)
    std::this_thread::yield();
  routes.remove("SEARCH:laptop", a);
  caf::anon_send(a, retire_atom::value);
  sender.get();
  auto expected = static_cast<size_t>(sent.load());
  // Every request is answered (served, or 503 if it was dropped), and so is
  // every one the table did not route (dropped here: 503).
  auto answers_due = expected + static_cast<size_t>(missed.load());
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> guard{log->mtx};
      if (log->seen.size() >= answers_due)
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard<std::mutex> guard{log->mtx};
  size_t served = 0;
  for (auto& [ads, err] : log->seen)
    if (!err && ads == 1)
      ++served;
  EXPECT_EQ(served, expected);
}
