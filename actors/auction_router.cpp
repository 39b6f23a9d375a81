#include "actors/auction_router.hpp"

#include "actors/deadline.hpp"
#include "config/log.hpp"
#include "actors/validation.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>

namespace adserver {

namespace {

using self_ptr = auction_router_actor::stateful_pointer<auction_router_state>;

/// Merges what every campaign in PostgreSQL targets into the index (other
/// nodes' campaigns too); retried until it succeeds, then refreshed.
void load_targeting(self_ptr self) {
  auto& st = self->state;
  auto next = std::chrono::seconds(std::max<int64_t>(1, st.settings.refresh_seconds));
  self->request(st.io.reader, caf::infinite, query_atom::value, storage::targeting_all())
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        // Merged outside the table's lock; published under it once.
        std::vector<std::string> keywords, categories, all_keywords, all_categories;
        for (auto& r : rows) {
          storage::parse_targeting(r, keywords, categories);
          all_keywords.insert(all_keywords.end(), keywords.begin(), keywords.end());
          all_categories.insert(all_categories.end(), categories.begin(), categories.end());
        }
        st.routes->add_targeting(all_keywords, all_categories);
        st.routes->set_targeting_loaded();
        self->delayed_send(self, next, poll_atom::value);
      },
      [=](caf::error&) { self->delayed_send(self, next, poll_atom::value); });
}

/// Is the message being handled from the auction now serving `key`?
bool from_current_auction(self_ptr self, const std::string& key) {
  auto it = self->state.auctions.find(key);
  return it != self->state.auctions.end()
         && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(it->second);
}

/// Forgets what an auction watched.
void unwatch(auction_router_state& st, const std::string& key) {
  auto it = st.watched_by.find(key);
  if (it == st.watched_by.end())
    return;
  for (auto id : it->second) {
    auto w = st.money_watchers.find(id);
    if (w == st.money_watchers.end())
      continue;
    w->second.erase(key);
    if (w->second.empty())
      st.money_watchers.erase(w);
  }
  st.watched_by.erase(it);
}

/// The auction of `key`, spawned (and published) on first use.
auction_actor auction_for(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto it = st.auctions.find(key);
  if (it != st.auctions.end())
    return it->second;
  auto a = self->spawn(auction, key, st.settings, st.io, auction_router_actor{self});
  // An auction that ends without retiring (an exception) is unpublished, so
  // the next request for its key starts a new one instead of being dropped.
  self->monitor(a);
  st.auctions.emplace(key, a);
  st.routes->put(key, a);
  ++st.spawned;
  return a;
}

/// Forgets a retired or failed auction.
void forget(self_ptr self, std::map<std::string, auction_actor>::iterator it) {
  auto& st = self->state;
  st.routes->remove(it->first, it->second);
  unwatch(st, it->first);
  st.auctions.erase(it);
}

/// Passes a change made on this node to every peer's gateway, for their
/// auctions (each node serves from its own memory). When the change came as
/// a request (an admin change its state owner answers only once the auctions
/// have it), the answer waits for every peer's router to have passed it on
/// too, at most change_ack_timeout per peer: the client's next ad request
/// sees the change on any node. Clicks' money changes are plain messages and
/// wait for nothing.
template <class... Ts>
caf::result<void> tell_peers(self_ptr self, const Ts&... xs) {
  auto& st = self->state;
  if (!st.cluster)
    return {};
  auto peers = st.cluster->peer_gateways();
  st.sent_to_peers += static_cast<int64_t>(peers.size());
  // A plain message (a click's money) has nobody waiting for it.
  bool awaited =
    self->current_mailbox_element() != nullptr && self->current_message_id().is_request();
  if (!awaited) {
    for (auto& gateway : peers)
      self->send(gateway, peer_atom::value, xs...);
    return {};
  }
  auto promise = self->make_response_promise();
  ask_all_then(self, peers, change_ack_timeout,
               [promise]() mutable { promise.deliver(caf::unit); }, peer_atom::value, xs...);
  return caf::delegated<void>{};
}

void pass_money(self_ptr self, const advertiser_money& money) {
  auto& st = self->state;
  // Loading auctions hear of everyone's money; the others only of the
  // advertisers they hold.
  auto watchers = st.money_watchers.find(money.advertiser_id);
  for (auto& [key, a] : st.auctions)
    if (st.watched_by.count(key) == 0
        || (watchers != st.money_watchers.end() && watchers->second.count(key) > 0))
      self->send(a, money_atom::value, money);
}

void pass_campaign(self_ptr self, const campaign_record& changed) {
  auto& st = self->state;
  st.routes->add_targeting(changed.keywords, changed.categories);
  for (auto& [key, a] : st.auctions)
    self->send(a, campaign_atom::value, changed);
}

}  // namespace

auction_router_state::~auction_router_state() {
  for (auto& [key, a] : auctions)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

auction_router_actor::behavior_type
auction_router(auction_router_actor::stateful_pointer<auction_router_state> self, io_handles io,
               auction_settings settings, std::shared_ptr<auction_routes> routes,
               std::shared_ptr<const cluster_view> cluster) {
  self->state.cluster = std::move(cluster);
  self->state.io = std::move(io);
  self->state.settings = std::move(settings);
  self->state.routes = std::move(routes);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    for (auto it = st.auctions.begin(); it != st.auctions.end(); ++it)
      if (it->second.address() == down.source) {
        ++st.failed;
        log_line(log_level::error, "auction_failed",
                 {{"auction", it->first}, {"reason", caf::to_string(down.reason)}});
        forget(self, it);
        return;
      }
  });
  load_targeting(self);
  return {
    [=](serve_atom, ad_request& req, serve_reply& reply) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      if (passed(req.due)) {
        reply.fail(deadline_passed());
        return;
      }
      std::string key;
      if (!st.routes->key_for(req, key)) {
        reply(served_ads{});  // targeting learned meanwhile: nothing can match
        return;
      }
      self->send(auction_for(self, key), serve_atom::value, std::move(req), std::move(reply));
    },
    [=](inspect_atom, ad_request& req) -> caf::result<auction_view> {
      std::string key;
      // As serving: a request no campaign can match starts no auction.
      if (!self->state.routes->key_for(req, key)) {
        auction_view none;
        none.key = auction_key(req);
        none.status.kind = "auction";
        none.status.key = none.key;
        none.status.info["state"] = "no campaign targets this request; no auction runs";
        return none;
      }
      return self->delegate(auction_for(self, key), inspect_atom::value);
    },
    [=](money_atom, const advertiser_money& money) -> caf::result<void> {
      pass_money(self, money);
      return tell_peers(self, money);
    },
    [=](campaign_atom, const campaign_record& changed) -> caf::result<void> {
      pass_campaign(self, changed);
      return tell_peers(self, changed, false);
    },
    [=](create_atom, const campaign_record& created) -> caf::result<void> {
      self->state.routes->add_targeting(created.keywords, created.categories);
      return tell_peers(self, created, true);
    },
    [=](peer_atom, const advertiser_money& money) {
      ++self->state.heard_from_peers;
      pass_money(self, money);
    },
    [=](peer_atom, const campaign_record& changed, bool created) {
      ++self->state.heard_from_peers;
      if (created)
        self->state.routes->add_targeting(changed.keywords, changed.categories);
      else
        pass_campaign(self, changed);
    },
    [=](idle_atom, const std::string& key, const auction_actor& idle) {
      auto& st = self->state;
      auto it = st.auctions.find(key);
      if (it == st.auctions.end() || it->second != idle)
        return;
      // Unpublished first: a request an I/O thread routed to it is already in
      // its mailbox, ahead of retire_atom, and is served.
      forget(self, it);
      ++st.retired;
      self->send(idle, retire_atom::value);
    },
    [=](watch_atom, const std::string& key, const std::vector<int64_t>& advertisers) {
      auto& st = self->state;
      if (!from_current_auction(self, key))
        return;  // a retired auction's last word
      unwatch(st, key);
      for (auto id : advertisers)
        st.money_watchers[id].insert(key);
      st.watched_by[key] = advertisers;
    },
    [=](watch_atom, const std::string& key) {
      if (from_current_auction(self, key))
        unwatch(self->state, key);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      load_targeting(self);
    },
    [=](status_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "auction-router";
      r.figures = {{"auctions", static_cast<int64_t>(st.auctions.size())},
                   {"auctions_spawned", st.spawned},
                   {"auctions_retired", st.retired},
                   {"auctions_failed", st.failed},
                   {"requests_unmatched", st.routes->unmatched()},
                   {"targeted_terms", st.routes->targeted_terms()},
                   {"changes_sent_to_peers", st.sent_to_peers},
                   {"changes_heard_from_peers", st.heard_from_peers},
                   {"watched_advertisers", static_cast<int64_t>(st.money_watchers.size())}};
      r.info["targeting"] = st.routes->targeting_loaded() ? "loaded" : "loading";
      return r;
    },
  };
}

}  // namespace adserver
