#pragma once
// Keeps the api_key_registry in step with PostgreSQL: loads it at start and
// re-reads it every `interval` (keys issued or revoked on another node, or by
// hand), and at once on `keys_atom` (a peer issued or revoked one). The admin
// routes also update it at once after their own commits.
#include "net/api_keys.hpp"
#include "net/app_context.hpp"
#include "protocol/interfaces.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace adserver::net {

caf::actor spawn_api_key_refresher(caf::actor_system& sys, pg_reader_actor reader,
                                   std::shared_ptr<api_key_registry> keys,
                                   std::chrono::seconds interval);

/// Tells every peer (through its gateway) that a key was issued or revoked
/// here, so the other nodes accept or refuse it within milliseconds.
void tell_peers_keys_changed(const app_context& app);

}  // namespace adserver::net
