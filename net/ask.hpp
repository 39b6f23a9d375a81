#pragma once
// Request/response from route handlers through the bridge; errors become the
// JSON error reply. Included only by route files (pulls in the actor headers).
#include "net/app_context.hpp"
#include "net/json_codec.hpp"

#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>

namespace adserver::net {

constexpr auto actor_timeout = std::chrono::seconds(30);

/// Sends `args` to `target`, giving up after `timeout`; `on_value(value)`
/// builds the reply. The serving and click paths pass caf::infinite: CAF 0.17
/// registers every timeout with its clock thread (a lock and a wake-up per
/// request, visible in their profiles), and their actors always answer.
template <class T, class Handle, class OnValue, class... Ts>
void ask_within(caf::duration timeout, const app_context& app, Handle target, respond_fn respond,
                OnValue on_value, Ts... args) {
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(target, timeout, args...)
      .then([=](T& value) { respond(on_value(value)); },
            [=](caf::error& err) { respond(error_reply(err)); });
  });
}

/// ask_within(actor_timeout, ...).
template <class T, class Handle, class OnValue, class... Ts>
void ask(const app_context& app, Handle target, respond_fn respond, OnValue on_value,
         Ts... args) {
  ask_within<T>(caf::duration{actor_timeout}, app, std::move(target), std::move(respond), std::move(on_value),
                std::move(args)...);
}

/// Finds the entity actor through the directory, then asks it.
template <class Entity, class T, class Atom, class OnValue, class... Ts>
void ask_entity(const app_context& app, Atom kind, int64_t id, respond_fn respond,
                OnValue on_value, Ts... args) {
  auto directory = app.directory;
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(directory, actor_timeout, kind, id)
      .then(
        [=](Entity& entity) {
          self->request(entity, actor_timeout, args...)
            .then([=](T& value) { respond(on_value(value)); },
                  [=](caf::error& err) { respond(error_reply(err)); });
        },
        [=](caf::error& err) { respond(error_reply(err)); });
  });
}

/// An advertiser key reads its own advertiser only: false (403 answered)
/// when the caller holds another advertiser's key. Defined in
/// net/admin_routes.cpp.
bool own_advertiser(const route_context& ctx, const respond_fn& respond, int64_t id);

/// Checks that campaign `id` exists and the caller may read it (admin tokens:
/// any; an advertiser key: its own, else 403), then runs `then` on a bridge
/// actor. Defined in net/dashboard_routes.cpp.
using campaign_read_fn = std::function<void(caf::event_based_actor*, const campaign_record&)>;
void with_readable_campaign(const app_context& app, const route_context& ctx,
                            respond_fn respond, int64_t id, campaign_read_fn then);

}  // namespace adserver::net
