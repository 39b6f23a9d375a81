#include "actors/timed_marks.hpp"

namespace adserver {

const int64_t* timed_marks::marked_at(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() || !it->second.marked ? nullptr : &it->second.at;
}

bool timed_marks::marked_within(const std::string& key, int64_t now, int64_t seconds) const {
  auto at = marked_at(key);
  return at && now - *at < seconds;
}

void timed_marks::unmark(entry& e) {
  if (e.marked) {
    e.marked = false;
    --marked_;
  }
}

void timed_marks::mark(const std::string& key, int64_t at) {
  auto it = keys_.try_emplace(key).first;
  auto& e = it->second;
  if (!e.marked)
    ++marked_;
  e.marked = true;
  e.at = at;
  // The same key marked again in the same second needs no second entry.
  if (!order_.empty() && order_.back().second == it && order_.back().first == at)
    return;
  ++e.queued;
  order_.emplace_back(at, it);
}

void timed_marks::forget(const std::string& key) {
  if (auto it = keys_.find(key); it != keys_.end())
    unmark(it->second);
}

void timed_marks::forget_mark(const std::string& key, int64_t at) {
  if (auto it = keys_.find(key); it != keys_.end() && it->second.at == at)
    unmark(it->second);
}

timed_marks::timed_marks(const timed_marks& other)
  : keys_(other.keys_), marked_(other.marked_) {
  for (auto& [at, it] : other.order_)
    order_.emplace_back(at, keys_.find(it->first));
}

timed_marks& timed_marks::operator=(const timed_marks& other) {
  if (this != &other)
    *this = timed_marks{other};
  return *this;
}

// A moved map keeps its nodes, so the order's references stay good.
timed_marks::timed_marks(timed_marks&& other) noexcept
  : keys_(std::move(other.keys_)),
    order_(std::move(other.order_)),
    marked_(std::exchange(other.marked_, 0)) {
  other.keys_.clear();
  other.order_.clear();
}

timed_marks& timed_marks::operator=(timed_marks&& other) noexcept {
  if (this != &other) {
    keys_ = std::move(other.keys_);
    order_ = std::move(other.order_);
    marked_ = std::exchange(other.marked_, 0);
    other.keys_.clear();
    other.order_.clear();
  }
  return *this;
}

bool timed_marks::expire(int64_t now, int64_t keep_seconds, size_t at_most) {
  for (; at_most > 0 && !order_.empty() && now - order_.front().first >= keep_seconds;
       --at_most) {
    auto [at, it] = order_.front();
    order_.pop_front();
    auto& e = it->second;
    // Only the mark this entry recorded: a later mark of the key stays.
    if (e.at == at)
      unmark(e);
    // The key itself goes with the last entry naming it.
    if (--e.queued == 0)
      keys_.erase(it);
  }
  return !order_.empty() && now - order_.front().first >= keep_seconds;
}

std::string ad_device_key(const std::string& ad_id, const std::string& device_id) {
  return std::to_string(ad_id.size()) + ':' + ad_id + device_id;
}

}  // namespace adserver
