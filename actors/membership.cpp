#include "actors/membership.hpp"

#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "storage/statements.hpp"

#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/send.hpp>

#include <chrono>

namespace adserver {

namespace {

using self_ptr = membership_actor::stateful_pointer<membership_state>;

/// Ready to place keys once the first round of connections has answered.
void settle_when_tried(membership_state& st) {
  if (st.connecting.empty())
    st.view->mark_settled();
}

/// Connects (asynchronously, through the middleman actor) to the gateway of
/// every live member that takes peers and is not connected yet. A connected
/// gateway is monitored: when its node goes, it is dropped and connected
/// again once the members table lists the node live.
void connect_peers(self_ptr self) {
  auto& st = self->state;
  if (!st.view->clustered())
    return;
  auto mm = self->home_system().middleman().actor_handle();
  for (auto& m : st.members) {
    auto node = m.node_id;
    if (!m.live || m.actor_port <= 0 || node == st.settings.self.node_id
        || st.view->peer(node) || st.connecting.count(node) > 0
        || st.not_peers.count(node) > 0)
      continue;
    st.connecting.insert(node);
    self
      ->request(mm, std::chrono::seconds(5), caf::connect_atom::value, m.actor_host,
                static_cast<uint16_t>(m.actor_port))
      .then(
        [=](const caf::node_id& reached, caf::strong_actor_ptr& ptr,
            const std::set<std::string>&) {
          auto& st = self->state;
          st.connecting.erase(node);
          if (!ptr) {
            settle_when_tried(st);
            return;
          }
          // A member row naming this node's own address (a copied config):
          // never a peer.
          if (reached == self->home_system().node()) {
            st.not_peers.insert(node);
            settle_when_tried(st);
            log_line(log_level::error, "peer_is_self",
                     {{"peer", node}, {"address", st.settings.self.actor_host}});
            return;
          }
          auto gateway = caf::actor_cast<node_gateway_actor>(ptr);
          self->monitor(gateway);
          st.peer_of[gateway.address()] = node;
          st.view->set_peer(node, gateway);
          settle_when_tried(st);
          ++st.peers_connected;
          log_line(log_level::info, "peer_connected", {{"peer", node}});
        },
        [=](caf::error& err) {
          self->state.connecting.erase(node);
          settle_when_tried(self->state);
          log_line(log_level::warn, "peer_unreachable",
                   {{"peer", node}, {"error", caf::to_string(err)}});
        });
  }
}

/// Renews (or, after it was lost, registers again) this node's row, then
/// reads every member. One heartbeat in flight at a time; each waits at most
/// one interval, so a slow database delays heartbeats, never piles them up.
void heartbeat(self_ptr self) {
  auto& st = self->state;
  if (st.beating)
    return;
  st.beating = true;
  auto& me = st.settings.self;
  auto renew = st.registered
                 ? storage::member_heartbeat(me.node_id, me.incarnation, st.settings.lease_ms)
                 : storage::member_register(me, st.settings.lease_ms);
  self
    ->request(st.db, std::chrono::milliseconds(st.settings.heartbeat_ms), write_atom::value,
              std::vector<pg_statement>{renew, storage::members_read(), storage::members_prune()})
    .then(
      [=](const pg_results& results) {
        auto& st = self->state;
        st.beating = false;
        bool renewed = !results.empty() && !results[0].empty();
        if (renewed) {
          if (!st.registered && st.lost)
            log_line(log_level::warn, "membership_registered_again",
                     {{"node", st.settings.self.node_id}});
          st.lost = false;
          st.registered = true;
          ++st.heartbeats;
          st.last_heartbeat_ms = epoch_millis();
        } else {
          // Another process took our node id while we were presumed dead,
          // or an operator deleted the row. Leases we held may be gone: the
          // epochs tell each ledger at its next write.
          if (!st.lost)
            log_line(log_level::error, "membership_lost", {{"node", st.settings.self.node_id}});
          st.lost = true;
          st.registered = false;
          ++st.heartbeats_failed;
        }
        if (results.size() > 1) {
          st.members = storage::parse_members(results[1]);
          st.view->set_members(st.members);
          connect_peers(self);
          settle_when_tried(st);
        }
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.beating = false;
        ++st.heartbeats_failed;
        log_line(log_level::warn, "membership_heartbeat_failed",
                 {{"node", st.settings.self.node_id}, {"error", caf::to_string(err)}});
      });
}

}  // namespace

membership_actor::behavior_type
membership(membership_actor::stateful_pointer<membership_state> self, pg_writer_actor db,
           std::shared_ptr<cluster_view> view, membership_settings settings) {
  self->state.settings = std::move(settings);
  self->state.db = std::move(db);
  self->state.view = std::move(view);
  self->state.last_heartbeat_ms = epoch_millis();  // registered at start-up
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    auto it = st.peer_of.find(down.source);
    if (it == st.peer_of.end())
      return;
    st.view->drop_peer(it->second, down.source);
    ++st.peers_lost;
    log_line(log_level::warn, "peer_down",
             {{"peer", it->second}, {"reason", caf::to_string(down.reason)}});
    st.peer_of.erase(it);
  });
  self->send(self, poll_atom::value);
  return {
    [=](poll_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      heartbeat(self);
      self->delayed_send(self, std::chrono::milliseconds(st.settings.heartbeat_ms),
                         poll_atom::value);
    },
    [=](set_atom, const std::string& http_url) {
      auto& st = self->state;
      st.settings.self.http_url = http_url;
      st.registered = false;  // the next heartbeat writes the whole row
    },
    [=](list_atom) { return self->state.members; },
    [=](stop_atom) -> caf::result<bool> {
      auto& st = self->state;
      auto promise = self->make_response_promise<bool>();
      self
        ->request(st.db, std::chrono::seconds(2), write_atom::value,
                  std::vector<pg_statement>{storage::member_leave(
                    st.settings.self.node_id, st.settings.self.incarnation)})
        .then([=](const pg_results&) mutable { promise.deliver(true); },
              [=](caf::error&) mutable { promise.deliver(false); });
      return promise;
    },
    [=](status_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "membership";
      r.key = st.settings.self.node_id;
      int64_t live = 0;
      for (auto& m : st.members)
        live += m.live ? 1 : 0;
      r.figures = {{"members", static_cast<int64_t>(st.members.size())},
                   {"members_live", live},
                   {"placement_nodes", static_cast<int64_t>(st.view->placement_nodes().size())},
                   {"peers", static_cast<int64_t>(st.peer_of.size())},
                   {"peers_connected", st.peers_connected},
                   {"peers_lost", st.peers_lost},
                   {"heartbeats", st.heartbeats},
                   {"heartbeats_failed", st.heartbeats_failed},
                   {"ms_since_heartbeat", epoch_millis() - st.last_heartbeat_ms}};
      r.info["registered"] = st.lost ? "false" : "true";
      return r;
    },
  };
}

}  // namespace adserver
