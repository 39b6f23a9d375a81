#pragma once
// Registers adserver's message types with an actor system configuration so
// they can be serialized (remote actors) and rendered.
namespace caf {
class actor_system_config;
}

namespace adserver {

void register_message_types(caf::actor_system_config& cfg);

}  // namespace adserver
