#pragma once
// The node's counters (protocol/telemetry.hpp) over the last minute: a thread
// copies them once a second into a ring, so the realtime view reports
// rates without any actor round trip.
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace adserver::net {

/// The counters whose rates the realtime view reports.
struct telemetry_snapshot {
  std::chrono::steady_clock::time_point at;
  int64_t clicks_charged = 0;
  int64_t money_charged = 0;
  int64_t deductions_ok = 0;
  int64_t deductions_refused = 0;
  int64_t deductions_failed = 0;
  int64_t clicks_unbilled = 0;
  int64_t ad_requests = 0;
  int64_t ad_requests_matched = 0;
  int64_t ad_requests_experiment = 0;
  int64_t ads_served = 0;
  int64_t ads_baseline_served = 0;
  int64_t rate_limited = 0;
};

/// The counters now.
telemetry_snapshot take_snapshot();

class telemetry_window {
public:
  telemetry_window();
  ~telemetry_window();
  telemetry_window(const telemetry_window&) = delete;
  telemetry_window& operator=(const telemetry_window&) = delete;

  /// The oldest snapshot at most a minute old (the start of the window).
  telemetry_snapshot window_start() const;

private:
  void run();
  static constexpr size_t slots = 61;
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::array<telemetry_snapshot, slots> ring_{};
  size_t next_ = 0;
  size_t filled_ = 0;
  std::thread thread_;
};

}  // namespace adserver::net
