#include "net/api_key_refresh.hpp"

#include "actors/cluster_view.hpp"
#include "storage/dashboard_statements.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <memory>

namespace adserver::net {

caf::actor spawn_api_key_refresher(caf::actor_system& sys, pg_reader_actor reader,
                                   std::shared_ptr<api_key_registry> keys,
                                   std::chrono::seconds interval) {
  return sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    // One read at a time: prompts arriving during a read make one more read
    // after it, however many there were (a burst of issued keys, or a noisy
    // peer, costs two reads, not one per prompt).
    struct reads {
      bool running = false;
      bool again = false;
      bool retry_scheduled = false;  // one retry after a failure, not one per failure
    };
    auto state = std::make_shared<reads>();
    auto read = [=] {
      state->running = true;
      state->again = false;
      auto read_at = keys->generation();
      self->request(reader, std::chrono::seconds(10), query_atom::value,
                    storage::api_keys_active())
        .then(
          [=](pg_rows& rows) {
            std::vector<std::pair<std::string, api_key_owner>> all;
            all.reserve(rows.size());
            for (auto& r : rows)
              all.push_back({r.at(0), {std::stoll(r.at(1)), std::stoll(r.at(2))}});
            keys->replace(std::move(all), read_at);
            state->running = false;
            if (state->again)
              self->send(self, keys_atom::value);
          },
          [=](caf::error&) {
            // PostgreSQL away: keep the keys we know, try again soon.
            state->running = false;
            if (!state->retry_scheduled) {
              state->retry_scheduled = true;
              self->delayed_send(self, std::chrono::seconds(2), reload_atom::value);
            }
          });
    };
    auto prompt = [=] {
      if (state->running)
        state->again = true;
      else
        read();
    };
    self->send(self, poll_atom::value);
    return {
      [=](poll_atom) {
        prompt();
        self->delayed_send(self, interval, poll_atom::value);
      },
      [=](keys_atom) { prompt(); },
      [=](reload_atom) {  // the retry after a failed read
        state->retry_scheduled = false;
        prompt();
      },
    };
  });
}

void tell_peers_keys_changed(const app_context& app) {
  if (!app.cluster)
    return;
  for (auto& gateway : app.cluster->peer_gateways())
    caf::anon_send(gateway, peer_atom::value, keys_atom::value);
}

}  // namespace adserver::net
