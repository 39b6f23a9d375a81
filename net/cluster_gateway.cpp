#include "net/cluster_gateway.hpp"

#include "actors/cluster_view.hpp"
#include "actors/experiment_logic.hpp"
#include "actors/text_normalize.hpp"
#include "actors/tracking_token.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "net/json_codec.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

namespace adserver::net {

namespace {

constexpr const char* node_header = "X-Adserver-Node";
/// What the hop to the owner and back may take out of a request's time.
constexpr int64_t forward_margin_ms = 50;
/// At most this many codes in one peer's session notice (an answer has at
/// most 10 ads, each one code).
constexpr size_t max_codes_per_notice = 10;
/// The longest a forwarded request may run on its owner.
constexpr int64_t max_forwarded_ms = 60000;

forwarded_request to_wire(const http_request& req, const std::string& from) {
  forwarded_request w;
  w.method = req.method;
  w.path = req.path;
  for (auto& [k, v] : req.query) {
    w.query_names.push_back(k);
    w.query_values.push_back(v);
  }
  for (auto& [k, v] : req.headers) {
    w.header_names.push_back(k);
    w.header_values.push_back(v);
  }
  w.body = req.body;
  w.client_address = req.client_address;
  auto now = epoch_millis();
  w.deadline_ms = req.deadline_ms;
  w.answer_by_ms = req.answer_by_ms;
  // The hop's own time comes off what the owner is given.
  if (req.deadline_ms != 0)
    w.deadline_in_ms = std::max<int64_t>(1, req.deadline_ms - now - forward_margin_ms);
  if (req.answer_by_ms != 0)
    w.answer_in_ms = std::max<int64_t>(1, req.answer_by_ms - now - forward_margin_ms);
  w.request_id = req.request_id;
  w.from_node = from;
  return w;
}

http_request from_wire(const forwarded_request& w) {
  http_request req;
  req.method = w.method;
  req.path = w.path;
  for (size_t i = 0; i < w.query_names.size() && i < w.query_values.size(); ++i)
    req.query[w.query_names[i]] = w.query_values[i];
  for (size_t i = 0; i < w.header_names.size() && i < w.header_values.size(); ++i)
    req.headers[w.header_names[i]] = w.header_values[i];
  req.body = w.body;
  req.client_address = w.client_address;
  // The time left rebased on this clock, never past the sender's instant
  // (a request that waited in a paused node's socket must not start afresh),
  // and bounded whatever a peer claims.
  auto now = epoch_millis();
  auto within = [now](int64_t at, int64_t in) {
    auto by = now + std::clamp<int64_t>(in <= 0 ? max_forwarded_ms : in, 1, max_forwarded_ms);
    return at > 0 ? std::min(by, at) : by;
  };
  req.deadline_ms = within(w.deadline_ms, w.deadline_in_ms);
  req.answer_by_ms = within(w.answer_by_ms, w.answer_in_ms);
  req.request_id = w.request_id;
  req.forwarded = true;
  return req;
}

forwarded_reply to_wire(const http_reply& r) {
  forwarded_reply w;
  w.status = r.stream ? 500 : r.status;
  w.body = r.stream ? "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"a stream cannot be "
                      "forwarded\",\"details\":{}}}"
                    : r.body;
  w.content_type = r.content_type;
  for (auto& [k, v] : r.headers) {
    if (k == "X-Request-Id")  // the receiving node adds its own
      continue;
    w.header_names.push_back(k);
    w.header_values.push_back(v);
  }
  return w;
}

http_reply from_wire(const forwarded_reply& w) {
  http_reply r;
  r.status = static_cast<int>(w.status);
  r.body = w.body;
  r.content_type = w.content_type;
  for (size_t i = 0; i < w.header_names.size() && i < w.header_values.size(); ++i)
    r.headers.emplace_back(w.header_names[i], w.header_values[i]);
  return r;
}

/// The owner's answer when a forwarded request runs out of time: before it
/// started nothing was applied; once under way a change may have committed.
forwarded_reply timed_out(bool started) {
  return to_wire(error_reply(
    503, "UNAVAILABLE",
    started ? "the owning node did not answer in time; a change may have been applied: retry "
              "with the same Idempotency-Key"
            : "the request's deadline passed before the owning node took it up; nothing applied; "
              "retry",
    started ? "{\"retry_after_seconds\":1,\"outcome\":\"unknown\"}" : "{\"retry_after_seconds\":1}"));
}

/// A peer's session notice within what an ad request can produce (the same
/// limits as the HTTP API: a notice that could not come from a served ad
/// request is dropped, never stored).
bool well_formed(const session_mapping& served) {
  auto text = [](const std::string& s) { return !s.empty() && s.size() <= 100 && is_valid_utf8(s); };
  if (served.codes.empty() || served.codes.size() > max_codes_per_notice
      || check_session_id(served.session_id) || !text(served.exp_key) || !text(served.exp_var))
    return false;
  for (auto& [code, original] : served.codes)
    if (!text(code) || !text(original))
      return false;
  return true;
}

struct gateway_state {
  const router* routes = nullptr;
  int64_t body_limit = 1 << 20;
  auction_router_actor auctions;
  std::vector<session_experiment_actor> session_shards;
  caf::actor key_refresher;
  std::string node;
  struct pending {
    caf::typed_response_promise<forwarded_reply> promise;
    int64_t answer_by_ms = 0;
  };
  std::map<uint64_t, pending> waiting;
  uint64_t next_id = 0;
  int64_t served = 0;
  int64_t refused = 0;
  int64_t expired = 0;
  int64_t sessions_remembered = 0;  // codes other nodes served to sessions owned here
  static inline const char* name = "node-gateway";
};

node_gateway_actor::behavior_type
gateway(node_gateway_actor::stateful_pointer<gateway_state> self, const router* routes,
        auction_router_actor auctions, std::vector<session_experiment_actor> session_shards,
        caf::actor key_refresher, std::string node, int64_t body_limit) {
  self->state.routes = routes;
  self->state.key_refresher = std::move(key_refresher);
  self->state.session_shards = std::move(session_shards);
  self->state.body_limit = body_limit;
  self->state.auctions = std::move(auctions);
  self->state.node = std::move(node);
  self->delayed_send(self, std::chrono::milliseconds(250), poll_atom::value);
  return {
    [=](forward_atom, const forwarded_request& wire) -> caf::result<forwarded_reply> {
      auto& st = self->state;
      if (st.waiting.size() >= max_forwarded_pending) {
        ++st.refused;
        return to_wire(error_reply(503, "UNAVAILABLE",
                                   "too many forwarded requests wait on node " + st.node
                                     + "; retry",
                                   "{\"retry_after_seconds\":1}"));
      }
      if (static_cast<int64_t>(wire.body.size()) > st.body_limit) {
        ++st.refused;
        return to_wire(error_reply(413, "PAYLOAD_TOO_LARGE", "the request body is too large"));
      }
      auto req = from_wire(wire);
      if (epoch_millis() >= req.deadline_ms) {  // its client has had its 503
        ++st.expired;
        return timed_out(false);
      }
      auto id = ++st.next_id;
      auto promise = self->make_response_promise<forwarded_reply>();
      st.waiting.emplace(id, gateway_state::pending{promise, req.answer_by_ms});
      node_gateway_actor me{self};
      // The handler answers from whichever thread completes it: the answer
      // comes back here, where the promise lives.
      st.routes->dispatch(req, [me, id](http_reply reply) {
        caf::anon_send(me, answer_atom::value, id, to_wire(reply));
      });
      return promise;
    },
    [=](answer_atom, uint64_t id, forwarded_reply& reply) {
      auto& st = self->state;
      auto it = st.waiting.find(id);
      if (it == st.waiting.end())
        return;  // answered 503 at its deadline already
      ++st.served;
      it->second.promise.deliver(std::move(reply));
      st.waiting.erase(it);
    },
    [=](poll_atom) {
      auto& st = self->state;
      auto now = epoch_millis();
      for (auto it = st.waiting.begin(); it != st.waiting.end();) {
        if (now >= it->second.answer_by_ms) {
          ++st.expired;
          it->second.promise.deliver(timed_out(true));
          it = st.waiting.erase(it);
        } else {
          ++it;
        }
      }
      self->delayed_send(self, std::chrono::milliseconds(250), poll_atom::value);
    },
    // Delegated: a sender waiting for the change to reach this node's
    // auctions hears back from the router once it has passed it on.
    [=](peer_atom, const advertiser_money& money) -> caf::result<void> {
      return self->delegate(self->state.auctions, peer_atom::value, money);
    },
    [=](peer_atom, const campaign_record& changed, bool created) -> caf::result<void> {
      return self->delegate(self->state.auctions, peer_atom::value, changed, created);
    },
    [=](peer_atom, reload_atom) {
      for (auto& shard : self->state.session_shards)
        self->send(shard, reload_atom::value);
    },
    [=](peer_atom, keys_atom) {
      if (self->state.key_refresher)
        caf::anon_send(self->state.key_refresher, keys_atom::value);
    },
    [=](experiment_atom, session_mapping& served) {
      auto& st = self->state;
      // Bounded like what an ad request can produce (a peer is trusted to be
      // a member, not to be well-formed).
      if (st.session_shards.empty() || !well_formed(served))
        return;
      ++st.sessions_remembered;
      auto& shard =
        st.session_shards[session_shard(served.session_id, st.session_shards.size())];
      self->send(shard, experiment_atom::value, std::move(served));
    },
    [=](status_atom) {
      auto& st = self->state;
      status_record r;
      r.kind = "node-gateway";
      r.key = st.node;
      r.figures = {{"forwarded_waiting", static_cast<int64_t>(st.waiting.size())},
                   {"forwarded_served", st.served},
                   {"forwarded_refused", st.refused},
                   {"forwarded_expired", st.expired},
                   {"sessions_remembered", st.sessions_remembered}};
      return r;
    },
  };
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// campaign id -> advertiser id (never changes once created), bounded.
class campaign_owners {
public:
  bool find(int64_t campaign, int64_t& advertiser) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = owners_.find(campaign);
    if (it == owners_.end())
      return false;
    advertiser = it->second;
    return true;
  }
  void put(int64_t campaign, int64_t advertiser) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (owners_.size() >= 100000)
      owners_.clear();
    owners_[campaign] = advertiser;
  }

private:
  mutable std::mutex mutex_;
  std::unordered_map<int64_t, int64_t> owners_;
};

using here_fn = std::function<void(const http_request&, respond_fn)>;

respond_fn naming(respond_fn respond, std::string node) {
  return [respond = std::move(respond), node = std::move(node)](http_reply reply) {
    reply.headers.emplace_back(node_header, node);
    respond(std::move(reply));
  };
}

/// Sends `req` to `owner`'s gateway and answers with what it answers.
void forward(const app_context& app, const std::string& owner, const http_request& req,
             respond_fn respond) {
  auto peer = app.cluster->peer(owner);
  if (!peer) {
    auto reply = error_reply(503, "UNAVAILABLE",
                             "node " + owner + " owns this entity and is not reachable from "
                               + app.cluster->self() + " yet; retry",
                             "{\"retry_after_seconds\":1,\"node\":" + json_quote(owner) + "}");
    reply.headers.emplace_back("Retry-After", "1");
    naming(std::move(respond), owner)(std::move(reply));
    return;
  }
  auto wire = to_wire(req, app.cluster->self());
  auto left = req.answer_by_ms != 0 ? req.answer_by_ms - epoch_millis() : 30000;
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(50, left));
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(peer, timeout, forward_atom::value, wire)
      .then(
        [=](forwarded_reply& reply) {
          auto r = from_wire(reply);
          r.headers.emplace_back(node_header, owner);
          respond(std::move(r));
        },
        [=](caf::error& err) {
          // Lost on the way there or back: a change may have committed.
          auto changes = req.method != "GET" && req.method != "HEAD";
          auto reply = error_reply(
            503, "UNAVAILABLE",
            "node " + owner + " did not answer (" + caf::to_string(err) + "); "
              + (changes ? "a change may have been applied there: retry with the same "
                           "Idempotency-Key"
                         : "retry"),
            "{\"retry_after_seconds\":1,\"node\":" + json_quote(owner)
              + (changes ? ",\"outcome\":\"unknown\"}" : "}"));
          reply.headers.emplace_back("Retry-After", "1");
          reply.headers.emplace_back(node_header, owner);
          respond(std::move(reply));
        });
  });
}

/// Serves the request here when `owner` is this node (false: the router
/// goes on, the answer naming it), or forwards it there (true).
bool here_or_forward(const app_context& app, const std::string& owner, const http_request& req,
                     respond_fn& respond) {
  if (owner == app.cluster->self()) {
    respond = naming(std::move(respond), owner);
    return false;
  }
  forward(app, owner, req, std::move(respond));
  return true;
}

}  // namespace

int64_t placement_advertiser(const std::string& pattern, const route_context& ctx,
                             const std::string& hmac_secret, int64_t& campaign_id) {
  campaign_id = 0;
  // A malformed id is served where it arrives (its handler answers 400).
  auto param = [&](const char* name) {
    int64_t id = 0;
    return read_id(ctx, name, id) ? int64_t{0} : id;
  };
  if (starts_with(pattern, "/admin/v1/advertisers/{id}"))
    return param("id");
  if (pattern == "/admin/v1/inspect/ledgers/{advertiser_id}")
    return param("advertiser_id");
  if (pattern == "/admin/v1/inspect/reconcile") {
    int64_t id = 0;
    return read_query_id(ctx, "advertiser_id", id) ? int64_t{0} : id;
  }
  // A stream reads Redis, which every node shares: served where it arrives.
  if (pattern == "/api/v1/campaigns/{id}/dashboard/stream")
    return 0;
  if (starts_with(pattern, "/admin/v1/campaigns/{id}") || starts_with(pattern, "/api/v1/campaigns/{id}")
      || pattern == "/admin/v1/inspect/campaigns/{id}") {
    campaign_id = param("id");
    return campaign_id > 0 ? -1 : 0;
  }
  const auto& req = ctx.request;
  if (req.method == "POST" && pattern == "/admin/v1/campaigns") {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("advertiser_id")
        && body["advertiser_id"].is_number_integer())
      return std::max<int64_t>(0, body["advertiser_id"].get<int64_t>());
    return 0;
  }
  if (req.method == "POST"
      && (pattern == "/api/v1/ads/click" || pattern == "/api/v1/ads/impression")) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string())
      return 0;
    // A token that does not verify is refused where it arrives.
    auto claims = verify_token(body["token"].get<std::string>(), hmac_secret, epoch_seconds());
    return claims ? claims->advertiser_id : 0;
  }
  return 0;
}

std::string placement_session(const std::string& pattern, const route_context& ctx) {
  if (pattern != "/admin/v1/inspect/sessions/{session_id}")
    return {};
  auto it = ctx.params.find("session_id");
  // A malformed id is served where it arrives (its handler answers 400).
  if (it == ctx.params.end() || check_session_id(it->second))
    return {};
  return it->second;
}

node_gateway_actor spawn_gateway(caf::actor_system& sys, const router& routes,
                                 auction_router_actor auctions,
                                 std::vector<session_experiment_actor> session_shards,
                                 caf::actor key_refresher, std::string node,
                                 int64_t body_limit) {
  return sys.spawn(gateway, &routes, std::move(auctions), std::move(session_shards),
                   std::move(key_refresher), std::move(node), body_limit);
}

forward_fn make_forwarder(const app_context& app) {
  auto owners = std::make_shared<campaign_owners>();
  return [&app, owners](const std::string& pattern, route_context& ctx, respond_fn& respond,
                        here_fn here) -> bool {
    if (auto session = placement_session(pattern, ctx); !session.empty())
      return here_or_forward(app, app.cluster->owner_of_session(session), ctx.request, respond);
    int64_t campaign = 0;
    auto advertiser = placement_advertiser(pattern, ctx, app.config->hmac_secret, campaign);
    if (advertiser < 0 && owners->find(campaign, advertiser) == false) {
      // Whose campaign? Read once, then served here or forwarded.
      auto copy = std::make_shared<http_request>(ctx.request);
      auto answer = respond;
      auto reader = app.io.reader;
      app.bridge->run([&app, owners, copy, answer, here, campaign,
                       reader](caf::event_based_actor* self) {
        self->request(reader, std::chrono::seconds(5), query_atom::value,
                      storage::campaign_advertiser(campaign))
          .then(
            [&app, owners, copy, answer, here, campaign](const pg_rows& rows) {
              if (rows.empty()) {  // no such campaign: the handler says so
                here(*copy, answer);
                return;
              }
              auto advertiser = storage::to_int(rows[0].at(0));
              owners->put(campaign, advertiser);
              auto respond = answer;
              if (!here_or_forward(app, app.cluster->owner_of_advertiser(advertiser), *copy,
                                   respond))
                here(*copy, respond);
            },
            [answer](caf::error& err) { answer(error_reply(err)); });
      });
      return true;
    }
    if (advertiser <= 0)
      return false;
    return here_or_forward(app, app.cluster->owner_of_advertiser(advertiser), ctx.request,
                           respond);
  };
}

}  // namespace adserver::net
