#include "actors/directory.hpp"

#include "actors/business_time.hpp"
#include "actors/campaign.hpp"
#include "actors/deadline.hpp"
#include "actors/errors.hpp"
#include "actors/ledger.hpp"
#include "actors/text_normalize.hpp"
#include "actors/validation.hpp"
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

/// What a campaign's ledger needs of it: budgets and its highest bid (spend
/// is the ledger's own).
campaign_spend campaign_limits(const campaign_record& c) {
  campaign_spend limits;
  limits.campaign_id = c.id;
  limits.daily_budget = c.daily_budget;
  limits.total_budget = c.total_budget;
  limits.day = business_today();
  limits.serving = c.status == "ACTIVE" && c.audit.activated;
  limits.start_date = c.start_date;
  limits.end_date = c.end_date;
  limits.standard_delivery = c.delivery == "STANDARD";
  for (auto& [placement, bid] : c.bids)
    limits.max_bid = std::max(limits.max_bid, bid);
  return limits;
}

caf::error not_found(const char* what, int64_t id) {
  return make_error(ec::reference_not_found,
                    std::string{what} + " " + std::to_string(id) + " does not exist",
                    std::string{"{\""} + what + "_id\":" + std::to_string(id) + "}");
}

ledger_actor spawn_ledger(self_ptr self, ledger_init init) {
  auto id = init.advertiser.id;
  auto l = self->spawn(ledger, std::move(init), self->state.io, directory_actor{self},
                       self->state.ledgers_config);
  self->state.ledgers[id] = l;
  ++self->state.activations;
  return l;
}

void activate_ledger(self_ptr self, int64_t id) {
  auto today = business_today();
  auto fail = [=](const caf::error& err) { deliver_all(self->state.ledger_waiters, id, err); };
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
                      auto at = storage::to_int(c[2]);
                      if (now - at < 3600)
                        init.recent_clicks[{c[0], c[1]}] = at;
                      init.charged_tokens[c[3] + ' ' + c[0]] = at;
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
                             directory_actor{self}, self->state.campaigns_config);
        self->state.campaigns[id] = c;
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
  auto& waiters = st.ledger_waiters[id];
  waiters.push_back(promise);
  if (waiters.size() == 1)
    activate_ledger(self, id);
}

void create_campaign(self_ptr self, campaign_record spec, request_meta meta,
                     caf::typed_response_promise<campaign_record> promise) {
  auto fail = [=](caf::error& err) mutable { promise.deliver(err); };
  auto who = meta.who;
  // Every reference is checked by the application (no foreign keys).
  self->request(directory_actor{self}, std::chrono::seconds(30), ledger_atom::value,
                spec.advertiser_id)
    .then(
      [=](ledger_actor& l) mutable {
        self->request(l, std::chrono::seconds(30), get_atom::value)
          .then(
            [=](const advertiser_record& adv) mutable {
              if (!adv.audit.activated) {
                promise.deliver(make_error(
                  ec::reference_inactive,
                  "advertiser " + std::to_string(adv.id) + " is not active",
                  "{\"advertiser_id\":" + std::to_string(adv.id) + "}"));
                return;
              }
              self->request(self->state.catalog, std::chrono::seconds(30), get_atom::value,
                            spec.product_id)
                .then(
                  [=](const product_record& p) mutable {
                    if (!p.audit.activated) {
                      promise.deliver(make_error(
                        ec::reference_inactive, "product " + p.product_id + " is not active",
                        "{\"product_id\":" + json_quote(p.product_id) + "}"));
                      return;
                    }
                    self->request(self->state.io.writer, caf::infinite, write_atom::value,
                                  std::vector<pg_statement>{storage::campaign_create(spec, who)},
                                  meta.due, meta.ticket)
                      .then(
                        [=](const pg_results& res) mutable {
                          if (res.empty() || res[0].empty()) {
                            promise.deliver(make_error(ec::internal, "campaign not stored"));
                            return;
                          }
                          auto rec = storage::parse_campaign(res[0][0]);
                          self->state.targeting.add(rec.keywords, rec.categories);
                          auto c = self->spawn(campaign, rec, self->state.io,
                                               directory_actor{self},
                                               self->state.campaigns_config);
                          self->state.campaigns[rec.id] = c;
                          self->send(l, campaign_atom::value, campaign_limits(rec));
                          self->send(self->state.io.kafka, publish_atom::value,
                                     campaign_event("CAMPAIGN_CREATED", rec, who));
                          promise.deliver(rec);
                        },
                        fail);
                  },
                  fail);
            },
            fail);
      },
      fail);
}

/// Merges what every campaign in PostgreSQL targets into the index (other
/// nodes' campaigns too); retried until it succeeds, then refreshed.
void load_targeting(self_ptr self) {
  auto& st = self->state;
  auto next = std::chrono::seconds(std::max<int64_t>(1, st.auctions_config.refresh_seconds));
  self->request(st.io.reader, caf::infinite, query_atom::value, storage::targeting_all())
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        std::vector<std::string> keywords, categories;
        for (auto& r : rows) {
          storage::parse_targeting(r, keywords, categories);
          st.targeting.add(keywords, categories);
        }
        st.targeting_loaded = true;
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
void unwatch(directory_state& st, const std::string& key) {
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

/// The auction of `key`, spawned on first use.
/// Auctions are keyed by what campaigns target, not by what was asked (the
/// request keeps its own category for tokens and events).
std::string serving_auction_key(const directory_state& st, const ad_request& req) {
  return st.targeting_loaded && req.placement == "CATEGORY"
           ? "CATEGORY:" + st.targeting.targeted_category(req.category)
           : auction_key(req);
}

auction_actor auction_for(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto it = st.auctions.find(key);
  if (it != st.auctions.end())
    return it->second;
  auto a = self->spawn(auction, key, st.auctions_config, st.io, directory_actor{self});
  st.auctions.emplace(key, a);
  return a;
}

}  // namespace

directory_state::~directory_state() {
  for (auto& [id, l] : ledgers)
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
  for (auto& [id, c] : campaigns)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  for (auto& [key, a] : auctions)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

directory_actor::behavior_type directory(directory_actor::stateful_pointer<directory_state> self,
                                         io_handles io, catalog_actor catalog,
                                         auction_settings auctions_config,
                                         ledger_settings ledgers_config,
                                         campaign_settings campaigns_config) {
  self->state.io = std::move(io);
  self->state.ledgers_config = ledgers_config;
  self->state.campaigns_config = campaigns_config;
  self->state.catalog = std::move(catalog);
  self->state.auctions_config = std::move(auctions_config);
  load_targeting(self);
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
    [=](create_atom, advertiser_spec& spec,
        request_meta& meta) -> caf::result<advertiser_record> {
      if (passed(meta.due))
        return deadline_passed();
      if (auto err = validate(spec))
        return err;
      auto promise = self->make_response_promise<advertiser_record>();
      auto bn = spec.business_number;
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::advertiser_create(spec, meta.who)},
                    meta.due, meta.ticket)
        .then(
          [=](const pg_results& res) mutable {
            if (res.empty() || res[0].empty()) {
              promise.deliver(make_error(
                ec::conflict, "business_number " + bn + " is already registered",
                "{\"field\":\"business_number\",\"business_number\":" + json_quote(bn) + "}"));
              return;
            }
            ledger_init init;
            init.advertiser = storage::parse_advertiser(res[0][0]);
            init.version = storage::parse_advertiser_version(res[0][0]);
            spawn_ledger(self, init);
            self->send(self->state.io.redis, set_atom::value, balance_key(init.advertiser.id),
                       std::to_string(init.advertiser.balance), int64_t{0});
            promise.deliver(init.advertiser);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](create_atom, campaign_record& spec, request_meta& meta) -> caf::result<campaign_record> {
      if (passed(meta.due))
        return deadline_passed();
      // Keywords are stored normalized, as search terms are matched.
      for (auto& k : spec.keywords) {
        auto normalized = normalize_term(k);
        if (!normalized)
          return validation_error("targeting.keywords", "keywords must be valid UTF-8");
        k = *normalized;
      }
      if (auto err = validate_new_campaign(spec, business_today()))
        return err;
      auto promise = self->make_response_promise<campaign_record>();
      create_campaign(self, std::move(spec), std::move(meta), promise);
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
    [=](serve_atom, ad_request& req) -> caf::result<served_ads> {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());  // the hot path's queue, fresh
      if (passed(req.due))
        return deadline_passed();
      if (st.targeting_loaded && !st.targeting.may_match(req)) {
        ++st.unmatched;
        return served_ads{};
      }
      auto key = serving_auction_key(st, req);
      // One hop fewer than handing out the auction: it answers the caller.
      return self->delegate(auction_for(self, key), serve_atom::value, std::move(req));
    },
    [=](inspect_atom, ad_request& req) -> caf::result<auction_view> {
      auto& st = self->state;
      auto key = serving_auction_key(st, req);
      // As serving: a request no campaign can match starts no auction.
      if (st.targeting_loaded && !st.targeting.may_match(req)) {
        auction_view none;
        none.key = key;
        none.status.kind = "auction";
        none.status.key = key;
        none.status.info["state"] = "no campaign targets this request; no auction runs";
        return none;
      }
      return self->delegate(auction_for(self, key), inspect_atom::value);
    },
    [=](list_atom, ledger_atom) {
      held_ledgers out;
      for (auto& [id, ledger] : self->state.ledgers) {
        out.ids.push_back(id);
        out.ledgers.push_back(ledger);
      }
      return out;
    },
    [=](idle_atom, const std::string& key, const auction_actor& idle) {
      auto& st = self->state;
      auto it = st.auctions.find(key);
      if (it == st.auctions.end() || it->second != idle)
        return;
      st.auctions.erase(it);
      unwatch(st, key);
      ++st.retired;
      // Sent after everything already passed on to it, so that is served first.
      self->send(idle, retire_atom::value);
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
      ++st.passivated;
      self->send(idle, retire_atom::value);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      load_targeting(self);
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
    [=](money_atom, const advertiser_money& money) {
      auto& st = self->state;
      // Loading auctions hear of everyone's money; the others only of the
      // advertisers they hold.
      auto watchers = st.money_watchers.find(money.advertiser_id);
      for (auto& [key, a] : st.auctions)
        if (st.watched_by.count(key) == 0
            || (watchers != st.money_watchers.end() && watchers->second.count(key) > 0))
          self->send(a, money_atom::value, money);
    },
    [=](campaign_atom, const campaign_record& changed) {
      auto& st = self->state;
      st.targeting.add(changed.keywords, changed.categories);
      for (auto& [key, a] : st.auctions)
        self->send(a, campaign_atom::value, changed);
      // Its ledger judges when auctions must hear of money changes by the bids.
      if (auto it = st.ledgers.find(changed.advertiser_id); it != st.ledgers.end())
        self->send(it->second, campaign_atom::value, campaign_limits(changed));
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
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "directory";
      r.figures = {{"ledgers", static_cast<int64_t>(st.ledgers.size())},
                   {"campaigns", static_cast<int64_t>(st.campaigns.size())},
                   {"auctions", static_cast<int64_t>(st.auctions.size())},
                   {"auctions_retired", st.retired},
                   {"entities_passivated", st.passivated},
                   {"requests_unmatched", st.unmatched},
                   {"targeted_terms", static_cast<int64_t>(st.targeting.size())},
                   {"activations", st.activations}};
      return r;
    },
  };
}

}  // namespace adserver
