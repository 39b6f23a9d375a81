#pragma once
// Append-only disk spool for events Kafka could not take, replayed in order,
// and the dead-letter file for events Kafka refuses for good.
//
// Spool layout (version 1): <path> starts with an 8-byte header ("ADSP" and
// the version as u32 little endian), then records:
//   u32 topic length, u32 key length, u32 payload length,
//   u32 CRC-32 over those 12 bytes and the three strings, topic, key, payload.
// An empty file has no header; it is written with the first record. So a
// drained spool is a 0-byte file.
// <path>.offset holds "v1 <byte offset>": everything before it was delivered.
// It is replaced atomically and durably (tmp file, fsync, rename, fsync of
// the directory), so a restart neither loses nor re-sends what is before it.
//
// At open, records from the delivered offset are checked; a torn or corrupt
// tail (a crash in the middle of an append, a failed checksum) is cut off:
// its bytes are appended to <path>.cut for inspection, the spool is truncated
// at the end of the last good record and one line on stderr says how much.
// A headerless non-empty file is the legacy format (version 0, no checksum):
// its undelivered records are converted to version 1 at open.
//
// Every file is created with mode 0600 (events name devices and sessions).
#include "protocol/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace adserver::storage {

class kafka_spool {
public:
  static constexpr uint64_t default_max_bytes = uint64_t{256} << 20;

  explicit kafka_spool(std::string path, uint64_t max_bytes = default_max_bytes);
  ~kafka_spool();
  kafka_spool(const kafka_spool&) = delete;
  kafka_spool& operator=(const kafka_spool&) = delete;

  /// Empty string or the reason (opening the file failed). Repairs a torn
  /// tail and converts a legacy file (see above).
  std::string open();

  enum class append_result {
    kept,         // written (durable after the next sync)
    full,         // pending bytes reached the cap: not written
    write_error,  // the write failed (see last_error): not written
  };
  append_result append(const kafka_event& e);
  /// Makes appended records durable (fdatasync); cheap when nothing changed.
  /// False (and last_error) when the sync failed.
  bool sync();
  /// Records after the delivered offset, at most `max`; `end_offset` is where
  /// the last returned record ends.
  std::vector<kafka_event> read_pending(size_t max, uint64_t& end_offset);
  /// Marks everything before `offset` delivered (durably); truncates the
  /// spool when all is. False (and last_error) when a write failed.
  bool mark_delivered(uint64_t offset);

  bool empty() const { return delivered_ >= size_; }
  uint64_t pending_bytes() const { return size_ - delivered_; }
  /// Pending bytes reached the cap: appends are refused until replay frees
  /// space.
  bool full() const { return pending_bytes() >= max_bytes_; }
  /// The last write or sync failed and nothing was written successfully since.
  bool failing() const { return failing_; }
  bool is_open() const { return fd_ >= 0; }
  int64_t appended() const { return appended_; }
  int64_t refused_full() const { return refused_full_; }
  int64_t write_errors() const { return write_errors_; }
  uint64_t cut_bytes() const { return cut_bytes_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& path() const { return path_; }

private:
  bool write_all(uint64_t at, const std::string& bytes);
  void write_failed(const std::string& what, int err);
  bool store_offset();
  bool migrate_legacy(uint64_t legacy_offset);
  /// Moves [from, size_) to <path>.cut and truncates the spool at `from`.
  void cut_tail(uint64_t from, const char* why);
  /// Reads the record at `at`; false when it is incomplete or corrupt.
  bool read_record(uint64_t at, kafka_event& e, uint64_t& next);

  std::string path_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t delivered_ = 0;
  uint64_t size_ = 0;
  bool dirty_ = false;
  bool failing_ = false;
  int64_t appended_ = 0;
  int64_t refused_full_ = 0;
  int64_t write_errors_ = 0;
  uint64_t cut_bytes_ = 0;
  std::string last_error_;
};

/// Events Kafka refuses for good (too large, invalid topic, ...) or that the
/// spool cannot keep: one JSON object per line,
/// {"time":ISO 8601,"topic","key","reason","payload"}. Mode 0600.
class dead_letter_file {
public:
  explicit dead_letter_file(std::string path);
  ~dead_letter_file();
  dead_letter_file(const dead_letter_file&) = delete;
  dead_letter_file& operator=(const dead_letter_file&) = delete;

  /// Appends one line (opens the file on first use). False (and last_error)
  /// when it could not be written.
  bool write(const kafka_event& e, const std::string& reason);
  /// fdatasync when something was written since the last call.
  bool sync();
  const std::string& last_error() const { return last_error_; }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  bool dirty_ = false;
  std::string last_error_;
};

/// CRC-32 (IEEE 802.3, as zlib's crc32) of `n` bytes, continuing from `crc`.
uint32_t crc32(uint32_t crc, const void* data, size_t n);

}  // namespace adserver::storage
