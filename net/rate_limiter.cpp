#include "net/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace adserver::net {

rate_limiter::rate_limiter(double per_second, double burst)
  : per_second_(per_second), burst_(std::max(burst, 1.0)) {
}

bool rate_limiter::allow(const std::string& key, int& retry_after_s) {
  if (per_second_ <= 0)
    return true;
  auto now = std::chrono::steady_clock::now();
  auto& sh = shards_[std::hash<std::string>{}(key) % shards_.size()];
  std::lock_guard<std::mutex> guard{sh.mtx};
  if (sh.buckets.size() > 100000) {
    // Forget buckets that have refilled completely: they carry no state.
    for (auto it = sh.buckets.begin(); it != sh.buckets.end();) {
      double idle = std::chrono::duration<double>(now - it->second.last).count();
      it = idle * per_second_ >= burst_ ? sh.buckets.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = sh.buckets.try_emplace(key, bucket{burst_, now});
  auto& b = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
  return false;
}

}  // namespace adserver::net
