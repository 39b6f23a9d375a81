#include "actors/auction.hpp"

#include "actors/deadline.hpp"
#include "actors/experiment_logic.hpp"
#include "actors/pacing.hpp"
#include "actors/slate.hpp"
#include "protocol/business_time.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>

namespace adserver {

namespace {

using self_ptr = auction_actor::stateful_pointer<auction_state>;

/// A STANDARD campaign held back by pacing comes back as the day moves on:
/// while any is held back, serving re-ranks at most this often.
constexpr int64_t pacing_recheck_seconds = 5;


std::string rtb_key(const auction_state& st) {
  auto rest = st.placement == "SEARCH" ? st.search_term : st.category;
  return "rtb:" + st.placement + ":" + (rest.empty() ? std::string{"all"} : rest);
}

std::chrono::seconds idle_check_interval(const auction_settings& s) {
  return std::chrono::seconds(std::clamp<int64_t>(s.idle_seconds / 2, 1, 60));
}

/// Does this auction hold the campaign, or could it after the change?
bool may_hold(const auction_state& st, const campaign_record& c) {
  for (auto& held : st.candidates)
    if (held.campaign_id == c.id)
      return true;
  auto bid = c.bids.find(st.placement);
  if (c.status != "ACTIVE" || !c.audit.activated || bid == c.bids.end() || bid->second <= 0)
    return false;
  candidate as_candidate;
  as_candidate.categories = c.categories;
  as_candidate.keywords = c.keywords;
  return targets(as_candidate, st.placement, st.category, st.search_term);
}

/// The shard that finishes an experiment request; null when none applies.
const session_experiment_actor* experiment_shard(const auction_state& st, const ad_request& req) {
  auto& shards = st.settings.experiment_shards;
  if (req.exp_key.empty() || shards.empty())
    return nullptr;
  return &shards[session_shard(req.session_id, shards.size())];
}

/// Accounts for a served slate in one pass over its ads: the node's served
/// and baseline-led counts (/metrics: ads whose pCTR the category baseline
/// still leads, fewer impressions than the prior weight), and the expected
/// cost of its STANDARD ads against their pacing (their clicks are spend the
/// auction hears of later). True when one has gone past its target, so the
/// auction ranks again before the next request.
bool account_served(auction_state& st, const slate& s) {
  int64_t baseline = 0;
  bool crossed = false;
  for (auto& ad : s.ads)
    for (auto& r : st.ranked)
      if (r.ad.campaign_id == ad.campaign_id) {
        if (static_cast<double>(r.ad.impressions) < st.settings.ranking.prior_impressions)
          ++baseline;
        if (r.ad.standard_delivery)
          crossed |= add_pending_cost(st.candidates, ad.campaign_id, expected_cost(r));
        break;
      }
  auto& t = telemetry();
  t.ads_ranked_served.fetch_add(static_cast<int64_t>(s.ads.size()), std::memory_order_relaxed);
  t.ads_baseline_served.fetch_add(baseline, std::memory_order_relaxed);
  return crossed;
}

void rerank(self_ptr self);

/// Serves `req` from memory: the slate, signed here or by the session's
/// experiment shard, goes to `reply`.
void serve_now(self_ptr self, const ad_request& req, serve_reply& reply, int64_t now) {
  auto& st = self->state;
  ++st.served;
  auto s = make_slate(st.ranked, req, st.settings.token_ttl_seconds, now);
  bool crossed = account_served(st, s);
  if (auto shard = experiment_shard(st, req))
    self->send(*shard, experiment_atom::value, std::move(s), std::move(reply));
  else
    reply(sign_slate(s, st.settings.hmac_secret));
  if (crossed)
    rerank(self);  // the slate is taken: the next request sees the new rank
}

void serve_waiting(self_ptr self) {
  auto& st = self->state;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  auto now = epoch_seconds();
  for (auto& [req, reply] : waiting) {
    if (passed(req.due)) {
      reply.fail(deadline_passed());
      continue;
    }
    serve_now(self, req, reply, now);
  }
}

status_record auction_status(const auction_state& st) {
  status_record r;
  r.kind = "auction";
  r.key = st.placement + ":" + st.category + st.search_term;
  r.figures = {{"ranked", static_cast<int64_t>(st.ranked.size())},
               {"candidates", static_cast<int64_t>(st.candidates.size())},
               {"served", st.served},
               {"loads", st.loads},
               {"reranks", st.reranks},
               {"paced_out", st.paced_out}};
  r.info["loaded_day"] = st.loaded_day;
  return r;
}

auction_view make_view(const auction_state& st) {
  auction_view v;
  v.key = st.key;
  v.loaded_day = st.loaded_day;
  v.candidates = static_cast<int64_t>(st.candidates.size());
  for (auto& r : st.ranked)
    v.ranked.push_back({r.rank, r.ad.campaign_id, r.ad.advertiser_id, r.ad.product_id, r.ad.bid,
                        r.pctr, r.score, r.price, r.ad.impressions, r.ad.clicks,
                        r.ad.baseline_ctr});
  v.status = auction_status(st);
  return v;
}

/// Answers the inspections that waited for a load (or its failure).
void answer_inspections(auction_state& st, const caf::error& err = caf::error{}) {
  auto inspecting = std::move(st.inspecting);
  st.inspecting.clear();
  for (auto& p : inspecting) {
    if (err)
      p.deliver(err);
    else
      p.deliver(make_view(st));
  }
}

/// A retired auction ends once it has answered everything it was given.
void quit_if_retired(self_ptr self) {
  auto& st = self->state;
  if (!st.retiring || st.loading || !st.waiting.empty() || !st.inspecting.empty())
    return;
  // The mirror shows live auctions only: a retired one hears of no changes.
  self->send(st.io.redis, zset_atom::value, rtb_key(st), std::vector<std::string>{},
             std::vector<double>{});
  self->quit();
}

/// Ranks the candidates and mirrors the list to Redis.
void rerank(self_ptr self) {
  auto& st = self->state;
  int64_t held_back = 0;
  auto may_run = within_pace_now(st.candidates,
                                 business_seconds_into_day(std::chrono::system_clock::now()),
                                 st.settings.pacing_allowance_percent, held_back);
  st.ranked = rank_eligible(std::move(may_run), st.settings.ranking);
  st.paced_out = held_back;
  st.paced_at = epoch_seconds();
  // Mirror (seed key rtb:{placement}:{category}): campaign id by score.
  std::vector<std::string> members;
  std::vector<double> scores;
  for (auto& r : st.ranked) {
    members.push_back(std::to_string(r.ad.campaign_id));
    scores.push_back(r.score);
  }
  self->send(st.io.redis, zset_atom::value, rtb_key(st), std::move(members), std::move(scores));
}

/// Takes freshly loaded candidates and serves who waited.
void install(self_ptr self, std::vector<candidate> candidates, const std::string& today,
             int64_t generation) {
  auto& st = self->state;
  // Served ads not yet clicked stay counted unless the load read new spend.
  std::map<int64_t, std::pair<int64_t, int64_t>> pending;  // id -> (spent, cost)
  for (auto& c : st.candidates)
    if (c.pending_cost > 0)
      pending[c.campaign_id] = {c.spent_today, c.pending_cost};
  st.candidates = std::move(candidates);
  for (auto& c : st.candidates) {
    if (!c.standard_delivery)
      continue;
    c.traffic = campaign_curve(st.curves, c.bids_by_placement);
    auto it = pending.find(c.campaign_id);
    if (it != pending.end() && it->second.first == c.spent_today)
      c.pending_cost = it->second.second;
  }
  for (auto& [id, money] : st.money_during_load)
    apply_money(st.candidates, money);
  st.money_during_load.clear();
  rerank(self);
  std::set<int64_t> advertisers;
  for (auto& c : st.candidates)
    advertisers.insert(c.advertiser_id);
  self->send(st.router, watch_atom::value, st.key,
             std::vector<int64_t>(advertisers.begin(), advertisers.end()));
  // Changed while loading: answer with this, but load again next time.
  st.loaded_day = generation == st.generation ? today : std::string{};
  st.loaded_at = epoch_seconds();
  st.loading = false;
  ++st.loads;
  serve_waiting(self);
  answer_inspections(st);
  quit_if_retired(self);
}

/// The category whose CTR baseline applies to a candidate here: the
/// requested one on CATEGORY pages, else its product's.
const std::string& baseline_category(const auction_state& st, const candidate& c) {
  return st.placement == "CATEGORY" ? st.category : c.product_category;
}

/// Sets each candidate's baseline from `values` (Redis key -> value), the
/// most specific category path first; the configured default where none is.
void apply_baselines(const auction_state& st, std::vector<candidate>& candidates,
                     const std::map<std::string, std::string>& values) {
  for (auto& c : candidates) {
    std::vector<std::string> mine;
    for (auto& k : baseline_keys(baseline_category(st, c))) {
      auto it = values.find(k);
      mine.push_back(it == values.end() ? std::string{} : it->second);
    }
    c.baseline_ctr = pick_baseline(mine, st.settings.ranking.baseline_ctr);
  }
}

/// Reads the candidates' CTR baselines (Redis defense:category:{path}:ctr) in
/// one MGET, then installs them; without Redis they get the default.
void with_baselines(self_ptr self, std::vector<candidate> candidates, std::string today,
                    int64_t generation) {
  auto& st = self->state;
  std::set<std::string> unique;
  for (auto& c : candidates)
    for (auto& k : baseline_keys(baseline_category(st, c)))
      unique.insert(k);
  if (unique.empty()) {
    apply_baselines(st, candidates, {});
    install(self, std::move(candidates), today, generation);
    return;
  }
  std::vector<std::string> keys(unique.begin(), unique.end());
  auto shared = std::make_shared<std::vector<candidate>>(std::move(candidates));
  auto done = [=](const std::map<std::string, std::string>& values) {
    apply_baselines(self->state, *shared, values);
    install(self, std::move(*shared), today, generation);
  };
  self->request(st.io.redis, std::chrono::seconds(1), get_atom::value, keys)
    .then(
      [=](const std::vector<std::string>& values) {
        std::map<std::string, std::string> by_key;
        for (size_t i = 0; i < keys.size() && i < values.size(); ++i)
          by_key[keys[i]] = values[i];
        done(by_key);
      },
      [=](caf::error&) { done({}); });
}

void read_candidates(self_ptr self, const std::string& today, int64_t generation) {
  auto& st = self->state;
  self->request(st.io.reader, caf::infinite, query_atom::value,
                storage::auction_candidates(st.placement, today,
                                            st.placement == "SEARCH" ? st.search_term
                                                                     : std::string{}))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        std::vector<candidate> candidates;
        for (auto& row : rows) {
          auto c = storage::parse_auction_row(row);
          if (targets(c, st.placement, st.category, st.search_term))
            candidates.push_back(std::move(c));
        }
        with_baselines(self, std::move(candidates), today, generation);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.loading = false;
        st.money_during_load.clear();
        auto waiting = std::move(st.waiting);
        st.waiting.clear();
        for (auto& w : waiting)
          w.second.fail(err);
        answer_inspections(st, err);
        quit_if_retired(self);
      });
}

/// Loads the traffic curves (pacing), then the candidates; without curves
/// (no traffic actor, or it does not answer within a second) the last ones
/// stay, uniform before any.
void load(self_ptr self) {
  auto& st = self->state;
  st.loading = true;
  self->send(st.router, watch_atom::value, st.key);
  auto today = business_today();
  auto generation = st.generation;
  if (!st.settings.traffic) {
    read_candidates(self, today, generation);
    return;
  }
  self->request(st.settings.traffic, std::chrono::seconds(1), traffic_atom::value)
    .then(
      [=](traffic_curves& curves) {
        self->state.curves = std::move(curves);
        read_candidates(self, today, generation);
      },
      [=](caf::error&) { read_candidates(self, today, generation); });
}

/// At local midnight spend starts again at zero: reload then, so campaigns
/// that left for the day come back without waiting for a request.
void schedule_new_day(self_ptr self) {
  // A little after midnight, so business_today() has moved on everywhere.
  auto wait = until_next_business_day(std::chrono::system_clock::now())
              + std::chrono::seconds(1);
  self->delayed_send(self, wait, reload_atom::value);
}

}  // namespace

auction_actor::behavior_type auction(auction_actor::stateful_pointer<auction_state> self,
                                     std::string key, auction_settings settings,
                                     io_handles io, auction_router_actor router) {
  auto& st = self->state;
  st.key = key;
  st.router = std::move(router);
  st.last_used = epoch_seconds();
  auto colon = key.find(':');
  st.placement = key.substr(0, colon);
  auto rest = colon == std::string::npos ? std::string{} : key.substr(colon + 1);
  if (st.placement == "CATEGORY")
    st.category = rest;
  else if (st.placement == "SEARCH")
    st.search_term = rest;
  st.settings = std::move(settings);
  st.io = std::move(io);
  self->delayed_send(self, idle_check_interval(st.settings), poll_atom::value);
  schedule_new_day(self);
  return {
    [=](serve_atom, ad_request& req, serve_reply& reply) {
      auto& st = self->state;
      // The census sees a busy auction's backlog, not only at its idle check.
      if ((++st.census_tick & 63) == 0)
        st.census.sample(self->mailbox().size());
      st.last_used = epoch_seconds();
      if (passed(req.due)) {
        reply.fail(deadline_passed());
        return;
      }
      // Warm path: memory only. A new business day re-reads today's spend.
      if (!st.loaded_day.empty() && st.loaded_day == business_today()) {
        auto now = epoch_seconds();
        // Learn from new statistics without making this request wait.
        if (!st.loading && now - st.loaded_at >= st.settings.refresh_seconds)
          load(self);
        else if (st.paced_out > 0 && now - st.paced_at >= pacing_recheck_seconds)
          rerank(self);
        serve_now(self, req, reply, now);
        return;
      }
      st.waiting.emplace_back(std::move(req), std::move(reply));
      if (!st.loading)
        load(self);
    },
    [=](inspect_atom) -> caf::result<auction_view> {
      auto& st = self->state;
      st.last_used = epoch_seconds();
      if (!st.loaded_day.empty() && st.loaded_day == business_today())
        return make_view(st);
      auto promise = self->make_response_promise<auction_view>();
      st.inspecting.push_back(promise);
      if (!st.loading)
        load(self);
      return promise;
    },
    [=](money_atom, const advertiser_money& money) {
      auto& st = self->state;
      if (st.loading) {
        // The load in flight may have read the money before this change.
        st.money_during_load[money.advertiser_id] = money;
        return;
      }
      if (apply_money(st.candidates, money)) {
        ++st.reranks;
        rerank(self);
      }
    },
    [=](campaign_atom, const campaign_record& changed) {
      auto& st = self->state;
      // While loading, the rows in flight may predate the change: load again.
      if (st.loading || may_hold(st, changed)) {
        st.loaded_day.clear();
        ++st.generation;
      }
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (st.retiring)
        return;
      if (!st.loading && st.waiting.empty()
          && epoch_seconds() - st.last_used >= st.settings.idle_seconds)
        self->send(st.router, idle_atom::value, st.key, auction_actor{self});
      self->delayed_send(self, idle_check_interval(st.settings), poll_atom::value);
    },
    [=](reload_atom) {
      auto& st = self->state;
      if (st.retiring)
        return;
      if (!st.loaded_day.empty() && st.loaded_day != business_today() && !st.loading)
        load(self);
      schedule_new_day(self);
    },
    [=](retire_atom) {
      self->state.retiring = true;
      quit_if_retired(self);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      return auction_status(self->state);
    },
  };
}

}  // namespace adserver
