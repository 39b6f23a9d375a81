#include "actors/directory.hpp"

#include "actors/campaign.hpp"
#include "actors/campaign_logic.hpp"
#include "actors/deadline.hpp"
#include "actors/ledger.hpp"
#include "actors/placement.hpp"
#include "actors/validation.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <functional>

namespace adserver {

namespace {

using self_ptr = directory_actor::stateful_pointer<directory_state>;

template <class Waiters, class Value>
void deliver_all(Waiters& waiters, int64_t id, const Value& v) {
  auto it = waiters.find(id);
  if (it == waiters.end())
    return;
  auto list = std::move(it->second);
  waiters.erase(it);
  for (auto& p : list)
    p.deliver(v);
}

caf::error not_found(const char* what, int64_t id) {
  return make_error(ec::reference_not_found,
                    std::string{what} + " " + std::to_string(id) + " does not exist",
                    std::string{"{\""} + what + "_id\":" + std::to_string(id) + "}");
}

/// The node owning advertiser `id` (this one unless clustered).
std::string owner_of(self_ptr self, int64_t id) {
  auto& st = self->state;
  if (!st.cluster || !st.cluster->clustered())
    return st.ledgers_config.node_id;
  return st.cluster->owner_of_advertiser(id);
}

bool owns(self_ptr self, int64_t id) {
  return owner_of(self, id) == self->state.ledgers_config.node_id;
}

caf::error moved(self_ptr self, int64_t id) {
  auto owner = owner_of(self, id);
  return make_error(ec::unavailable,
                    "advertiser " + std::to_string(id) + " is placed on node " + owner
                      + ", not here; retry",
                    "{\"retry_after_seconds\":1,\"node\":" + json_quote(owner) + "}");
}

ledger_actor spawn_ledger(self_ptr self, ledger_init init) {
  auto id = init.advertiser.id;
  auto l = self->spawn(ledger, std::move(init), self->state.io, directory_actor{self},
                       self->state.auctions, self->state.ledgers_config);
  self->state.ledgers[id] = l;
  ++self->state.activations;
  return l;
}

void load_ledger(self_ptr self, int64_t id, int64_t lease_epoch);

/// Takes the advertiser's ledger lease, then loads the ledger. While another
/// live node holds the lease (it is passivating the ledger, or has not yet
/// been found dead) the take is retried until ledgers_config.lease_wait_ms
/// has passed since `first_try`.
void activate_ledger(self_ptr self, int64_t id, int64_t first_try = 0) {
  auto fail = [=](const caf::error& err) { deliver_all(self->state.ledger_waiters, id, err); };
  if (first_try == 0)
    first_try = epoch_millis();
  auto& cfg = self->state.ledgers_config;
  self->request(self->state.io.writer, caf::infinite, write_atom::value,
                std::vector<pg_statement>{storage::ledger_lease_acquire(
                  id, cfg.node_id, cfg.incarnation, cfg.take_over)},
                deadline{}, idempotency_ticket{})
    .then(
      [=](const pg_results& results) {
        if (results.empty() || results[0].empty()) {
          fail(not_found("advertiser", id));
          return;
        }
        auto& row = results[0][0];
        if (!row.at(0).empty()) {
          load_ledger(self, id, storage::to_int(row.at(0)));
          return;
        }
        auto holder = row.at(1);
        if (epoch_millis() - first_try >= self->state.ledgers_config.lease_wait_ms
            || !owns(self, id)) {
          fail(make_error(ec::unavailable,
                          "advertiser " + std::to_string(id) + "'s ledger is held by node "
                            + holder + "; retry",
                          "{\"retry_after_seconds\":1,\"holder\":" + json_quote(holder)
                            + "}"));
          return;
        }
        // Often at first (a release is on its way), then backing off to 1 s
        // (a dead holder's membership takes cluster.lease_ms to expire):
        // takes go through the serving pg-writer.
        auto waited = epoch_millis() - first_try;
        self->delayed_send(self, std::chrono::milliseconds(std::clamp<int64_t>(waited / 2, 100, 1000)),
                           activate_atom::value, id, first_try);
      },
      fail);
}

void load_ledger(self_ptr self, int64_t id, int64_t lease_epoch) {
  auto today = business_today();
  // What waits is refused and the lease just taken freed: no ledger will
  // use it.
  auto fail = [=](const caf::error& err) {
    caf::anon_send(self->state.io.writer, write_atom::value,
                   std::vector<pg_statement>{storage::ledger_lease_release(id, lease_epoch)},
                   deadline{}, idempotency_ticket{});
    deliver_all(self->state.ledger_waiters, id, err);
  };
  self->request(self->state.io.reader, caf::infinite, query_atom::value,
                storage::advertiser_load(id))
    .then(
      [=](const pg_rows& rows) {
        if (rows.empty()) {
          fail(not_found("advertiser", id));
          return;
        }
        ledger_init init;
        init.advertiser = storage::parse_advertiser(rows.front());
        init.version = storage::parse_advertiser_version(rows.front());
        init.lease_epoch = lease_epoch;
        self->request(self->state.io.reader, caf::infinite, query_atom::value,
                      storage::ledger_campaigns(id, today))
          .then(
            [=](const pg_rows& campaign_rows) mutable {
              for (auto& r : campaign_rows)
                init.campaigns.push_back(storage::parse_campaign_spend(r, today));
              self->request(self->state.io.reader, caf::infinite, query_atom::value,
                            storage::recent_charged_clicks(
                              id, std::max<int64_t>(3600,
                                                    self->state.ledgers_config.token_ttl_seconds)))
                .then(
                  [=](const pg_rows& clicks) mutable {
                    auto now = epoch_seconds();
                    for (auto& c : clicks) {
                      // A row from a node whose clock ran ahead would hold
                      // up the forgetting of every later mark.
                      auto at = std::min(storage::to_int(c[2]), now);
                      if (now - at < 3600)
                        init.recent_clicks.mark(ad_device_key(c[0], c[1]), at);
                      init.charged_tokens.mark(c[3] + ' ' + c[0], at);
                    }
                    // The members changed while it loaded.
                    if (!owns(self, id)) {
                      fail(moved(self, id));
                      return;
                    }
                    auto l = spawn_ledger(self, std::move(init));
                    deliver_all(self->state.ledger_waiters, id, l);
                  },
                  fail);
            },
            fail);
      },
      fail);
}

void activate_campaign(self_ptr self, int64_t id) {
  auto fail = [=](const caf::error& err) { deliver_all(self->state.campaign_waiters, id, err); };
  self->request(self->state.io.reader, caf::infinite, query_atom::value,
                storage::campaign_load(id))
    .then(
      [=](const pg_rows& rows) {
        if (rows.empty()) {
          fail(not_found("campaign", id));
          return;
        }
        auto c = self->spawn(campaign, storage::parse_campaign(rows.front()), self->state.io,
                             directory_actor{self}, self->state.auctions,
                             self->state.campaigns_config);
        self->state.campaigns[id] = c;
        self->state.campaign_advertiser[id] = storage::parse_campaign(rows.front()).advertiser_id;
        ++self->state.activations;
        deliver_all(self->state.campaign_waiters, id, c);
      },
      fail);
}

/// Calls `f` with the advertiser's ledger once it is active.
void with_ledger(self_ptr self, int64_t id, caf::typed_response_promise<ledger_actor> promise) {
  auto& st = self->state;
  if (auto it = st.ledgers.find(id); it != st.ledgers.end()) {
    promise.deliver(it->second);
    return;
  }
  // Another node owns it (the members changed while the request was on its
  // way): refused, retryable, rather than taking the owner's lease.
  if (!owns(self, id)) {
    promise.deliver(moved(self, id));
    return;
  }
  auto& waiters = st.ledger_waiters[id];
  waiters.push_back(promise);
  if (waiters.size() == 1)
    activate_ledger(self, id);
}

/// Runs `f` with the campaign's actor, activating it on first use; a
/// campaign that cannot be activated is skipped (tracking is best effort).
void with_campaign(self_ptr self, int64_t id, std::function<void(const campaign_actor&)> f) {
  auto& st = self->state;
  if (auto it = st.campaigns.find(id); it != st.campaigns.end()) {
    f(it->second);
    return;
  }
  self->request(directory_actor{self}, std::chrono::seconds(30), campaign_atom::value, id)
    .then([=](campaign_actor& c) { f(c); }, [](caf::error&) {});
}

/// Retires the ledgers and campaigns another node owns now (members came or
/// went, or a ledger finished loading after they did): each ledger frees its
/// lease for the new owner.
void retire_moved(self_ptr self) {
  auto& st = self->state;
  auto nodes = st.cluster->placement_nodes();
  auto& me = st.cluster->self();
  auto mine = [&](int64_t advertiser) {
    return rendezvous_owner(nodes, advertiser_key(advertiser)) == me;
  };
  for (auto it = st.ledgers.begin(); it != st.ledgers.end();) {
    if (mine(it->first)) {
      ++it;
      continue;
    }
    ++st.moved;
    self->send(it->second, retire_atom::value);
    it = st.ledgers.erase(it);
  }
  for (auto it = st.campaigns.begin(); it != st.campaigns.end();) {
    auto owner = st.campaign_advertiser.find(it->first);
    if (owner == st.campaign_advertiser.end() || mine(owner->second)) {
      ++it;
      continue;
    }
    ++st.moved;
    self->send(it->second, retire_atom::value);
    st.campaign_advertiser.erase(owner);
    it = st.campaigns.erase(it);
  }
}

/// Frees the leases held under this node's name for advertisers it has no
/// ledger for and is not activating (a release that did not commit). Sent
/// through pg-writer after this actor's lease takes, so it never frees one
/// taken for a ledger still loading.
void sweep_leases(self_ptr self) {
  auto& st = self->state;
  std::vector<int64_t> held;
  for (auto& [id, l] : st.ledgers)
    held.push_back(id);
  for (auto& [id, w] : st.ledger_waiters)
    held.push_back(id);
  caf::anon_send(st.io.writer, write_atom::value,
                 std::vector<pg_statement>{
                   storage::ledger_leases_sweep(st.ledgers_config.node_id, held)},
                 deadline{}, idempotency_ticket{});
}

}  // namespace

directory_state::~directory_state() {
  for (auto& [id, l] : ledgers)
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
  for (auto& [id, c] : campaigns)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

directory_actor::behavior_type directory(directory_actor::stateful_pointer<directory_state> self,
                                         io_handles io, auction_router_actor auctions,
                                         ledger_settings ledgers_config,
                                         campaign_settings campaigns_config,
                                         std::shared_ptr<const cluster_view> cluster) {
  self->state.cluster = std::move(cluster);
  if (self->state.cluster && self->state.cluster->clustered())
    self->send(self, poll_atom::value);
  self->state.io = std::move(io);
  self->state.auctions = std::move(auctions);
  self->state.ledgers_config = ledgers_config;
  self->state.campaigns_config = campaigns_config;
  return {
    [=](ledger_atom, int64_t id) -> caf::result<ledger_actor> {
      if (id <= 0)
        return not_found("advertiser", id);
      auto promise = self->make_response_promise<ledger_actor>();
      with_ledger(self, id, promise);
      return promise;
    },
    [=](campaign_atom, int64_t id) -> caf::result<campaign_actor> {
      auto& st = self->state;
      if (id <= 0)
        return not_found("campaign", id);
      if (auto it = st.campaigns.find(id); it != st.campaigns.end())
        return it->second;
      auto promise = self->make_response_promise<campaign_actor>();
      auto& waiters = st.campaign_waiters[id];
      waiters.push_back(promise);
      if (waiters.size() == 1)
        activate_campaign(self, id);
      return promise;
    },
    [=](click_atom, click_request& click) -> caf::result<click_result> {
      auto& st = self->state;
      if (auto it = st.ledgers.find(click.ad.advertiser_id); it != st.ledgers.end())
        return self->delegate(it->second, click_atom::value, std::move(click));
      auto promise = self->make_response_promise<click_result>();
      self->request(directory_actor{self}, caf::infinite, ledger_atom::value, click.ad.advertiser_id)
        .then(
          [=](ledger_actor& l) mutable { promise.delegate(l, click_atom::value, click); },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](list_atom, ledger_atom) {
      held_ledgers out;
      for (auto& [id, ledger] : self->state.ledgers) {
        out.ids.push_back(id);
        out.ledgers.push_back(ledger);
      }
      return out;
    },
    [=](idle_atom, int64_t id, const ledger_actor& idle) {
      auto& st = self->state;
      auto it = st.ledgers.find(id);
      if (it == st.ledgers.end() || it->second != idle)
        return;
      st.ledgers.erase(it);
      ++st.passivated;
      // Sent after everything already passed on to it, so that is served first.
      self->send(idle, retire_atom::value);
    },
    [=](idle_atom, int64_t id, const campaign_actor& idle) {
      auto& st = self->state;
      auto it = st.campaigns.find(id);
      if (it == st.campaigns.end() || it->second != idle)
        return;
      st.campaigns.erase(it);
      st.campaign_advertiser.erase(id);
      ++st.passivated;
      self->send(idle, retire_atom::value);
    },
    [=](campaign_atom, const campaign_record& changed) {
      auto& st = self->state;
      // Its ledger judges when auctions must hear of money changes by the bids.
      if (auto it = st.ledgers.find(changed.advertiser_id); it != st.ledgers.end())
        self->send(it->second, campaign_atom::value,
                   campaign_limits(changed, business_today()));
    },
    [=](track_atom, int64_t campaign_id, int64_t impressions, int64_t clicks) {
      with_campaign(self, campaign_id, [=](const campaign_actor& c) {
        self->send(c, track_atom::value, impressions, clicks);
      });
    },
    [=](impression_atom, const token_claims& ad, const std::string& session_id) {
      with_campaign(self, ad.campaign_id, [=](const campaign_actor& c) {
        self->send(c, impression_atom::value, ad, session_id);
      });
    },
    [=](poll_atom) {
      retire_moved(self);
      // Now and then: free the leases this node holds without a ledger.
      if (++self->state.polls % 25 == 0)
        sweep_leases(self);
      self->delayed_send(self, std::chrono::milliseconds(200), poll_atom::value);
    },
    [=](activate_atom, int64_t id, int64_t first_try) {
      if (self->state.ledger_waiters.count(id) > 0)
        activate_ledger(self, id, first_try);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "directory";
      r.figures = {{"ledgers", static_cast<int64_t>(st.ledgers.size())},
                   {"campaigns", static_cast<int64_t>(st.campaigns.size())},
                   {"entities_passivated", st.passivated},
                   {"entities_moved", st.moved},
                   {"activations", st.activations}};
      return r;
    },
  };
}

}  // namespace adserver
