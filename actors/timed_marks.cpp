#include "actors/timed_marks.hpp"

namespace adserver {

const int64_t* timed_marks::marked_at(const std::string& key) const {
  auto it = at_.find(key);
  return it == at_.end() ? nullptr : &it->second;
}

void timed_marks::mark(const std::string& key, int64_t at) {
  at_[key] = at;
  order_.emplace_back(at, key);
}

void timed_marks::forget(const std::string& key) {
  at_.erase(key);
}

void timed_marks::forget_mark(const std::string& key, int64_t at) {
  auto it = at_.find(key);
  if (it != at_.end() && it->second == at)
    at_.erase(it);
}

void timed_marks::expire(int64_t now, int64_t keep_seconds) {
  while (!order_.empty() && now - order_.front().first >= keep_seconds) {
    auto& [at, key] = order_.front();
    // Only the mark this entry recorded: a later mark of the key stays.
    forget_mark(key, at);
    order_.pop_front();
  }
}

std::string ad_device_key(const std::string& ad_id, const std::string& device_id) {
  return std::to_string(ad_id.size()) + ':' + ad_id + device_id;
}

}  // namespace adserver
