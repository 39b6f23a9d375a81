#include "net/bridge.hpp"

#include "config/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <memory>
#include <mutex>
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

struct actor_bridge::impl : std::enable_shared_from_this<actor_bridge::impl> {
  caf::actor_system* sys = nullptr;
  std::mutex mtx;  // guards workers (HTTP threads read, a dying worker's slot is refilled)
  std::vector<caf::actor> workers;
  bool stopped = false;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> restarts{0};

  /// A worker in slot `i`: when an exception escapes a job or one of its
  /// callbacks, CAF ends the actor; a new one takes its slot, so one bad
  /// reply costs that request (answered at its deadline), not 1/N of all
  /// later ones.
  caf::actor spawn_worker(size_t i) {
    auto w = sys->spawn(bridge_actor);
    std::weak_ptr<impl> weak = shared_from_this();
    w->attach_functor([weak, i](const caf::error& reason) {
      if (reason == caf::exit_reason::user_shutdown || reason == caf::exit_reason::normal)
        return;
      auto self = weak.lock();
      if (!self)
        return;
      log_line(log_level::error, "bridge_worker_died", {{"reason", caf::to_string(reason)}});
      self->restarts.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> guard{self->mtx};
      if (!self->stopped && i < self->workers.size())
        self->workers[i] = self->spawn_worker(i);
    });
    return w;
  }
};

actor_bridge::actor_bridge(caf::actor_system& sys, size_t workers)
  : impl_(std::make_shared<impl>()) {
  impl_->sys = &sys;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto n = std::max<size_t>(1, workers);
  impl_->workers.resize(n);
  for (size_t i = 0; i < n; ++i)
    impl_->workers[i] = impl_->spawn_worker(i);
}

actor_bridge::~actor_bridge() {
  stop();
}

void actor_bridge::run(bridge_job job) const {
  caf::actor worker;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->workers.empty())
      return;
    auto i = impl_->next.fetch_add(1, std::memory_order_relaxed) % impl_->workers.size();
    worker = impl_->workers[i];
  }
  caf::anon_send(worker, std::move(job));
}

int64_t actor_bridge::restarts() const {
  return impl_->restarts.load(std::memory_order_relaxed);
}

void actor_bridge::stop() {
  std::vector<caf::actor> workers;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopped = true;
    workers.swap(impl_->workers);
  }
  for (auto& w : workers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
}

}  // namespace adserver::net
