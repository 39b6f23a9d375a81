#include "net/telemetry_window.hpp"

#include "protocol/telemetry.hpp"

namespace adserver::net {

telemetry_snapshot take_snapshot() {
  auto& t = telemetry();
  auto get = [](const counter& c) { return c.load(std::memory_order_relaxed); };
  telemetry_snapshot s;
  s.at = std::chrono::steady_clock::now();
  s.clicks_charged = get(t.clicks_charged);
  s.money_charged = get(t.money_charged);
  s.deductions_ok = get(t.deductions_ok);
  s.deductions_refused = get(t.deductions_refused);
  s.deductions_failed = get(t.deductions_failed);
  for (auto& c : t.clicks_unbilled)
    s.clicks_unbilled += get(c);
  s.ad_requests = get(t.ad_requests);
  s.ad_requests_matched = get(t.ad_requests_matched);
  s.ad_requests_experiment = get(t.ad_requests_experiment);
  s.ads_served = get(t.ads_ranked_served);
  s.ads_baseline_served = get(t.ads_baseline_served);
  s.rate_limited = get(t.rate_limited_device) + get(t.rate_limited_address)
                   + get(t.rate_limited_stream);
  return s;
}

telemetry_window::telemetry_window() {
  ring_[0] = take_snapshot();
  next_ = 1;
  filled_ = 1;
  thread_ = std::thread([this] { run(); });
}

telemetry_window::~telemetry_window() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void telemetry_window::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    ring_[next_] = take_snapshot();
    next_ = (next_ + 1) % slots;
    filled_ = std::min(filled_ + 1, slots);
  }
}

telemetry_snapshot telemetry_window::window_start() const {
  std::lock_guard<std::mutex> guard{mtx_};
  // The oldest kept snapshot: slot next_ once the ring is full, else slot 0.
  return filled_ < slots ? ring_[0] : ring_[next_];
}

}  // namespace adserver::net
