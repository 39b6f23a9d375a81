#pragma once
// Lets HTTP threads talk to actors without waiting: a job is handed to a
// long-lived bridge actor (anon_send, never blocks) which runs it with itself
// as `self`, so the job can request(...).then(...) and complete the HTTP
// response from the callback.
#include <cstdint>
#include <functional>
#include <memory>

namespace caf {
class actor_system;
class event_based_actor;
}  // namespace caf

namespace adserver::net {

using bridge_job = std::function<void(caf::event_based_actor*)>;

class actor_bridge {
public:
  actor_bridge(caf::actor_system& sys, size_t workers);
  ~actor_bridge();
  /// Runs `job` on one of the bridge actors; returns at once.
  void run(bridge_job job) const;
  /// Workers replaced after an exception ended one (logged as
  /// bridge_worker_died).
  int64_t restarts() const;
  /// Stops the bridge actors.
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace adserver::net
