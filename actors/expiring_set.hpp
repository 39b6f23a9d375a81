#pragma once
// A set of keys that forget themselves: each is kept until it expires, and
// at most `capacity` are kept (the oldest go first), so memory stays bounded
// whatever a client replays. Plain class: no actors, no I/O.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <utility>

namespace adserver {

class expiring_set {
public:
  explicit expiring_set(size_t capacity) : capacity_(capacity) {}
  /// True the first time `key` is seen; it is then kept until `expires_at`
  /// (seconds, the same clock as `now`).
  bool insert(const std::string& key, int64_t expires_at, int64_t now);
  size_t size() const { return keys_.size(); }
  /// Keys dropped before they expired to stay within the capacity.
  int64_t evicted_early() const { return evicted_early_; }

private:
  void forget_front();
  size_t capacity_;
  std::deque<std::pair<int64_t, std::string>> order_;  // insertion order
  std::unordered_set<std::string> keys_;
  int64_t evicted_early_ = 0;
};

}  // namespace adserver
