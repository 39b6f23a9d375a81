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
  // Keys are validated by the caller (UUIDs, addresses); anything longer is
  // never stored.
  if (key.size() > max_key_bytes)
    return false;
  auto now = std::chrono::steady_clock::now();
  auto& sh = shards_[std::hash<std::string>{}(key) % shards_.size()];
  std::lock_guard<std::mutex> guard{sh.mtx};
  if (sh.buckets.size() >= max_keys_per_shard) {
    // Forget buckets that have refilled completely: they carry no state.
    for (auto it = sh.buckets.begin(); it != sh.buckets.end();) {
      double idle = std::chrono::duration<double>(now - it->second.last).count();
      it = idle * per_second_ >= burst_ ? sh.buckets.erase(it) : std::next(it);
    }
    // Still full (many keys, all recently used: a flood of fresh keys):
    // forget a tenth, whatever they hold. Refusing new keys instead would
    // let the flood lock out every new device; forgetting only grants the
    // forgotten keys a fresh burst. Memory stays bounded either way.
    size_t drop = sh.buckets.size() >= max_keys_per_shard ? max_keys_per_shard / 10 : 0;
    for (auto it = sh.buckets.begin(); drop > 0 && it != sh.buckets.end(); --drop)
      it = sh.buckets.erase(it);
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

size_t rate_limiter::size() {
  size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard<std::mutex> guard{sh.mtx};
    n += sh.buckets.size();
  }
  return n;
}

}  // namespace adserver::net
