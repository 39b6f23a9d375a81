#include "actors/expiring_set.hpp"

namespace adserver {

void expiring_set::forget_front() {
  keys_.erase(order_.front().second);
  order_.pop_front();
}

bool expiring_set::insert(const std::string& key, int64_t expires_at, int64_t now) {
  // Lifetimes are nearly equal, so insertion order is close to expiry order:
  // the front is what expires first.
  while (!order_.empty() && order_.front().first <= now)
    forget_front();
  if (keys_.count(key) > 0)
    return false;
  if (capacity_ == 0)
    return true;
  while (keys_.size() >= capacity_) {
    forget_front();
    ++evicted_early_;
  }
  keys_.insert(key);
  order_.emplace_back(expires_at, key);
  return true;
}

}  // namespace adserver
