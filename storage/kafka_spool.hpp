#pragma once
// Append-only disk spool for events Kafka could not take, replayed in order.
// Layout: <path> holds length-prefixed records; <path>.offset holds how far
// replay has been delivered, so a restart neither loses nor repeats events.
#include "actors/types.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace adserver::storage {

class kafka_spool {
public:
  explicit kafka_spool(std::string path);
  ~kafka_spool();

  /// Empty string or the reason (opening the file failed).
  std::string open();
  void append(const kafka_event& e);
  /// Makes appended records durable (fdatasync); cheap when nothing changed.
  void sync();
  /// Records after the delivered offset, at most `max`; `end_offset` is where
  /// the last returned record ends.
  std::vector<kafka_event> read_pending(size_t max, uint64_t& end_offset);
  /// Marks everything before `offset` delivered; truncates when all is.
  void mark_delivered(uint64_t offset);
  bool empty() const;
  uint64_t pending_bytes() const;
  int64_t appended() const { return appended_; }

private:
  void store_offset();
  std::string path_;
  FILE* file_ = nullptr;
  uint64_t delivered_ = 0;
  uint64_t size_ = 0;
  bool dirty_ = false;
  int64_t appended_ = 0;
};

}  // namespace adserver::storage
