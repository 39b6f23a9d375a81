#pragma once
// Keys with the epoch second they were last marked, forgotten in the order
// they were marked once they are old enough: a ledger's duplicate-click
// memory (an hour of clicks). Lookups, marks and forgetting are O(log n) each,
// and expiry visits only the marks that are due: a sweep of an hour of clicks
// held the ledger, and every click of its advertiser, for up to 300 ms at
// 5,000 clicks/s. The order of marks is kept as references to the keys, so a
// mark costs one key, not two. Plain class: no actors, no I/O.
//
// Marks are expected in time order. One that is older than the mark before it
// (a clock stepped back) is kept until that newer one expires: longer, never
// shorter; callers clamp times from elsewhere (the database) to their now.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

namespace adserver {

class timed_marks {
public:
  timed_marks() = default;
  /// The copy's order refers to its own keys.
  timed_marks(const timed_marks& other);
  timed_marks& operator=(const timed_marks& other);
  timed_marks(timed_marks&& other) noexcept;
  timed_marks& operator=(timed_marks&& other) noexcept;
  /// When `key` was last marked, or null.
  const int64_t* marked_at(const std::string& key) const;
  /// Marked less than `seconds` before `now` (a mark past its time that
  /// expire has not reached yet does not count).
  bool marked_within(const std::string& key, int64_t now, int64_t seconds) const;
  /// Marks `key` at `at` (epoch seconds), replacing an earlier mark.
  void mark(const std::string& key, int64_t at);
  /// Forgets `key`'s mark.
  void forget(const std::string& key);
  /// Forgets `key`'s mark if it is the one made at `at` (not a later one).
  void forget_mark(const std::string& key, int64_t at);
  /// Forgets marks made `keep_seconds` or more before `now`, at most
  /// `at_most` of them (the rest at later calls: a lull after a burst does
  /// not make one call forget a million), so a mark older than that may
  /// still be there: callers that care check its age. True when more are due.
  bool expire(int64_t now, int64_t keep_seconds, size_t at_most = SIZE_MAX);
  /// Keys marked now.
  size_t size() const { return marked_; }
  /// Marks waiting in the expiry order (marked keys, and marks of keys
  /// marked again or forgotten since, until they come due).
  size_t queued() const { return order_.size(); }

private:
  struct entry {
    int64_t at = 0;
    bool marked = false;
    uint32_t queued = 0;  // entries of order_ naming this key
  };
  using entries = std::map<std::string, entry>;
  void unmark(entry& e);
  entries keys_;
  std::deque<std::pair<int64_t, entries::iterator>> order_;
  size_t marked_ = 0;
};

/// The duplicate-click key of an ad and a device (unambiguous for any ids).
std::string ad_device_key(const std::string& ad_id, const std::string& device_id);

}  // namespace adserver
