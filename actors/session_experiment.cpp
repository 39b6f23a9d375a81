#include "actors/session_experiment.hpp"

#include <algorithm>

#include "actors/experiment_logic.hpp"
#include "actors/slate.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <chrono>

namespace adserver {

namespace {

using self_ptr = session_experiment_actor::stateful_pointer<session_experiment_state>;

constexpr auto purge_interval = std::chrono::seconds(60);
/// Codes one session's record holds at most (an answer carries at most 10).
constexpr size_t max_codes_per_session = 100;
/// Slates waiting for the mappings to be read, at most; beyond, answered 503.
constexpr size_t max_waiting = 10000;


std::string mirror_key(const std::string& session_id) {
  return "experiment:mapping:" + session_id;
}

void purge_expired(session_experiment_state& st, int64_t now);

/// Memory is bounded: past the cap, expired sessions go first, then the
/// tenth closest to expiry (their Redis copy stays until its TTL); one pass
/// makes room for many new sessions, so the cost per session stays small.
void make_room(session_experiment_state& st, int64_t now) {
  purge_expired(st, now);
  if (st.sessions.size() < st.settings.max_sessions)
    return;
  std::vector<std::pair<int64_t, std::string>> by_expiry;
  by_expiry.reserve(st.sessions.size());
  for (auto& [id, record] : st.sessions)
    by_expiry.emplace_back(record.expires_at, id);
  auto drop = std::max<size_t>(1, by_expiry.size() / 10);
  std::nth_element(by_expiry.begin(), by_expiry.begin() + (drop - 1), by_expiry.end());
  for (size_t i = 0; i < drop; ++i)
    st.sessions.erase(by_expiry[i].second);
  st.evicted += static_cast<int64_t>(drop);
}

/// Remembers what `req`'s session was served (`swapped`: experiment code ->
/// original, possibly none) and mirrors a changed record to Redis. Sessions
/// never served an experiment code take no memory.
void remember(self_ptr self, const ad_request& req,
              const std::map<std::string, std::string>& swapped, int64_t now) {
  auto& st = self->state;
  auto known = st.sessions.find(req.session_id);
  if (swapped.empty() && known == st.sessions.end())
    return;
  if (known == st.sessions.end() && st.sessions.size() >= st.settings.max_sessions)
    make_room(st, now);
  auto& record = st.sessions[req.session_id];
  // Capped: a session's record stays small whatever peers send.
  if (remember_codes(record, req, swapped, now, st.settings.session_ttl_seconds,
                     max_codes_per_session)
      && !record.codes.empty())
    // Merged: codes another node kept for the session (its owner was
    // unreachable), or a former owner wrote, stay in the mirror.
    self->send(st.io.redis, set_atom::value, mirror_key(record.session_id),
               session_mapping_value(record), record.expires_at - now, true);
  st.sessions_share.set(static_cast<int64_t>(st.sessions.size()));
}

/// Remembers what a request's session was served: here, or, when another
/// node owns the session, there (one message, not awaited). Nothing swapped
/// leaves another node's record as it is.
void record_served(self_ptr self, const ad_request& req,
                   const std::map<std::string, std::string>& swapped, int64_t now) {
  auto& st = self->state;
  auto& view = st.settings.cluster;
  auto owner = view ? view->owner_of_session(req.session_id) : std::string{};
  if (!view || owner == view->self()) {
    remember(self, req, swapped, now);
    return;
  }
  if (swapped.empty())
    return;
  if (auto gateway = view->peer(owner)) {
    session_mapping served;
    served.session_id = req.session_id;
    served.exp_key = req.exp_key;
    served.exp_var = req.exp_var;
    served.codes = swapped;
    self->send(gateway, experiment_atom::value, std::move(served));
    ++st.sent_to_owner;
    telemetry().session_codes_sent.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The owner is not reachable this instant (placement drops it with its
  // peer): better remembered here than lost; the mirror write merges.
  ++st.kept_for_owner;
  telemetry().session_codes_kept.fetch_add(1, std::memory_order_relaxed);
  remember(self, req, swapped, now);
}

served_ads post_process(self_ptr self, slate s, const experiment_mappings& mappings) {
  auto& st = self->state;
  // Every node holds the same mappings (changes reach the peers before they
  // are answered), so the codes are swapped and signed here and the answer
  // never waits on another node; only the record goes to the session's owner.
  auto swapped = apply_experiment(s, mappings, business_today());
  record_served(self, s.request, swapped, epoch_seconds());
  ++st.served;
  st.applied += static_cast<int64_t>(swapped.size());
  return sign_slate(s, st.settings.hmac_secret);
}

served_ads post_process(self_ptr self, slate s) {
  auto& st = self->state;
  auto it = st.variants.find({s.request.exp_key, s.request.exp_var});
  static const experiment_mappings none;
  return post_process(self, std::move(s), it == st.variants.end() ? none : it->second);
}

/// Reads the mappings in force. Changed while read: read once more, so what
/// waits sees the change; changed again meanwhile: what waits is answered
/// with that read anyway (a stream of change notices cannot hold serving up)
/// and the next request reads again.
void load(self_ptr self, bool again = false) {
  auto& st = self->state;
  st.loading = true;
  auto generation = st.generation;
  self->request(st.io.reader, caf::infinite, query_atom::value,
                storage::experiments_in_use(business_today()))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        if (generation != st.generation && !again) {
          load(self, true);
          return;
        }
        st.variants.clear();
        for (auto& r : rows) {
          auto m = storage::parse_experiment(r);
          st.variants[{m.exp_key, m.exp_var}].push_back(std::move(m));
        }
        st.loaded_at = epoch_seconds();
        st.loaded_generation = generation;
        st.loading = false;
        ++st.loads;
        auto waiting = std::move(st.waiting);
        st.waiting.clear();
        for (auto& [s, reply] : waiting)
          reply(post_process(self, std::move(s)));
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.loading = false;
        auto waiting = std::move(st.waiting);
        st.waiting.clear();
        for (auto& w : waiting)
          w.second.fail(err);
      });
}

/// Post-processes `s` and answers `reply`: at once when the mappings are in
/// memory, after they are read otherwise.
void finish(self_ptr self, slate s, serve_reply reply) {
  auto& st = self->state;
  auto now = epoch_seconds();
  if (st.loaded_at > 0 && st.loaded_generation == st.generation) {
    // Warm: memory only; pick up changes made elsewhere in the background.
    if (!st.loading && now - st.loaded_at >= st.settings.refresh_seconds)
      load(self);
    reply(post_process(self, std::move(s)));
    return;
  }
  if (st.waiting.size() >= max_waiting) {
    reply.fail(make_error(ec::unavailable, "experiment mappings are being read; retry",
                          "{\"retry_after_seconds\":1}"));
    return;
  }
  st.waiting.emplace_back(std::move(s), std::move(reply));
  if (!st.loading)
    load(self);
}

void purge_expired(session_experiment_state& st, int64_t now) {
  for (auto it = st.sessions.begin(); it != st.sessions.end();)
    it = it->second.expires_at <= now ? st.sessions.erase(it) : std::next(it);
}

}  // namespace

session_experiment_actor::behavior_type
session_experiments(session_experiment_actor::stateful_pointer<session_experiment_state> self,
                    io_handles io, session_experiment_settings settings) {
  self->state.io = std::move(io);
  self->state.settings = std::move(settings);
  self->delayed_send(self, purge_interval, poll_atom::value);
  return {
    [=](experiment_atom, slate& s, serve_reply& reply) {
      finish(self, std::move(s), std::move(reply));
    },
    [=](experiment_atom, session_mapping& served) {
      auto& st = self->state;
      ++st.taken_for_peers;
      ad_request req;
      req.session_id = std::move(served.session_id);
      req.exp_key = std::move(served.exp_key);
      req.exp_var = std::move(served.exp_var);
      remember(self, req, served.codes, epoch_seconds());
    },
    [=](reload_atom) { ++self->state.generation; },
    [=](inspect_atom, const std::string& session_id) {
      auto& st = self->state;
      session_view v;
      if (auto it = st.sessions.find(session_id);
          it != st.sessions.end() && it->second.expires_at > epoch_seconds()) {
        v.found = true;
        v.mapping = it->second;
      }
      return v;
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      purge_expired(self->state, epoch_seconds());
      self->state.sessions_share.set(static_cast<int64_t>(self->state.sessions.size()));
      self->delayed_send(self, purge_interval, poll_atom::value);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "session-experiment";
      r.figures = {{"sessions", static_cast<int64_t>(st.sessions.size())},
                   {"sessions_evicted", st.evicted},
                   {"variants", static_cast<int64_t>(st.variants.size())},
                   {"served", st.served},
                   {"applied", st.applied},
                   {"loads", st.loads},
                   {"codes_sent_to_owner", st.sent_to_owner},
                   {"codes_kept_for_owner", st.kept_for_owner},
                   {"codes_taken_for_peers", st.taken_for_peers}};
      return r;
    },
  };
}

}  // namespace adserver
