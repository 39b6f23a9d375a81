#include "net/bridge.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <vector>

// Jobs are closures: local only, never sent to a remote actor.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(adserver::net::bridge_job)

namespace adserver::net {

namespace {

caf::behavior bridge_actor(caf::event_based_actor* self) {
  return {
    [=](bridge_job& job) { job(self); },
  };
}

}  // namespace

struct actor_bridge::impl {
  std::vector<caf::actor> workers;
  mutable std::atomic<size_t> next{0};
};

actor_bridge::actor_bridge(caf::actor_system& sys, size_t workers) : impl_(new impl) {
  for (size_t i = 0; i < std::max<size_t>(1, workers); ++i)
    impl_->workers.push_back(sys.spawn(bridge_actor));
}

actor_bridge::~actor_bridge() {
  stop();
}

void actor_bridge::run(bridge_job job) const {
  auto i = impl_->next.fetch_add(1, std::memory_order_relaxed) % impl_->workers.size();
  caf::anon_send(impl_->workers[i], std::move(job));
}

void actor_bridge::stop() {
  for (auto& w : impl_->workers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  impl_->workers.clear();
}

}  // namespace adserver::net
