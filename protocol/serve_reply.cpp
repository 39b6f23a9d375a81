#include "protocol/serve_reply.hpp"

#include "protocol/errors.hpp"

#include <atomic>

namespace adserver {

struct serve_reply::once {
  fn f;
  std::atomic<bool> answered{false};

  bool claim() { return !answered.exchange(true, std::memory_order_acq_rel); }

  ~once() {
    if (claim() && f)
      f({}, make_error(ec::unavailable, "the ad request was dropped; retry"));
  }
};

serve_reply::serve_reply(fn f) : once_(std::make_shared<once>()) {
  once_->f = std::move(f);
}

void serve_reply::operator()(served_ads ads) const {
  if (once_ && once_->claim() && once_->f)
    once_->f(std::move(ads), caf::error{});
}

void serve_reply::fail(const caf::error& err) const {
  if (once_ && once_->claim() && once_->f)
    once_->f({}, err);
}

}  // namespace adserver
