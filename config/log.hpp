#pragma once
// One JSON object per line on stderr: {"ts":...,"level":...,"event":...,
// fields...}. Lines under the configured level (log.level) cost one atomic
// load. Never pass a secret as a field: tokens and keys stay out of logs.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace adserver {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

/// "debug", "info", "warn" or "error"; false for anything else.
bool parse_log_level(std::string_view name, log_level& out);
const char* log_level_name(log_level level);

void set_log_level(log_level level);
bool log_enabled(log_level level);

/// A field's value: written as a JSON string, or raw when `raw` (numbers,
/// true/false, already-encoded JSON).
struct log_field {
  std::string_view name;
  std::string value;
  bool raw = false;
};

/// Queues one line when `level` is enabled (whole lines; threads do not
/// interleave; a writer thread writes them, so the caller never waits for
/// stderr; past 65,536 queued lines further ones are dropped and counted).
void log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields);

/// Waits (at most 2 s) until the queued lines are written (also at exit).
void flush_log();

/// Lines dropped because the queue was full.
int64_t log_lines_dropped();

}  // namespace adserver
