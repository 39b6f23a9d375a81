#pragma once
// Token buckets per key (device id, client address) for the public endpoints.
// Operational state, not business state: it protects the server and is lost
// on restart by design. Thread-safe (sharded locks); memory is bounded by
// dropping idle buckets.
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace adserver::net {

class rate_limiter {
public:
  /// `per_second` tokens refill per second, up to `burst`; 0 disables.
  rate_limiter(double per_second, double burst);
  /// True when a request for `key` may pass now; otherwise `retry_after_s`
  /// says when the next token arrives.
  bool allow(const std::string& key, int& retry_after_s);
  bool enabled() const { return per_second_ > 0; }
  size_t size();
  static constexpr size_t max_key_bytes = 64;
  /// Buckets per shard (16 shards): memory is bounded whatever the keys.
  static constexpr size_t max_keys_per_shard = 16384;

private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  struct shard {
    std::mutex mtx;
    std::unordered_map<std::string, bucket> buckets;
  };
  double per_second_;
  double burst_;
  std::array<shard, 16> shards_;
};

}  // namespace adserver::net
