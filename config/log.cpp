#include "config/log.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

namespace adserver {

namespace {

std::atomic<int> threshold{static_cast<int>(log_level::info)};

/// Lines go to a bounded queue that one thread writes out, so a request
/// never waits for stderr (a slow pipe or journald): when the queue is full
/// lines are dropped and counted, never blocking the caller. The writer
/// wakes every `write_interval`, when `wake_lines` are queued, or for a
/// warning or error, not per line: a wake-up and a write(2) per request cost
/// the serving path more than formatting the line. Never destroyed (threads may log until the
/// process ends); flushed at exit.
class log_writer {
public:
  static constexpr size_t max_lines = 65536;
  static constexpr size_t wake_lines = 4096;
  static constexpr auto write_interval = std::chrono::milliseconds(50);

  log_writer() {
    std::thread([this] { run(); }).detach();
    std::atexit([] { instance().flush(); });
  }

  static log_writer& instance() {
    static auto* writer = new log_writer;
    return *writer;
  }

  /// `urgent` lines (warnings and errors) are written at once: they are the
  /// ones an operator needs if the process dies right after.
  void push(std::string line, bool urgent) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (queue_.size() >= max_lines) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(line));
      if (urgent)
        urgent_ = true;
      else if (queue_.size() != wake_lines)
        return;
    }
    wake_.notify_one();
  }

  /// Waits (at most 2 s) until every queued line is written.
  void flush() {
    std::unique_lock<std::mutex> lock{mtx_};
    flushing_ = true;
    wake_.notify_one();
    drained_.wait_for(lock, std::chrono::seconds(2),
                      [this] { return queue_.empty() && !writing_; });
    flushing_ = false;
  }

  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  void run() {
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      wake_.wait_for(lock, write_interval,
                     [this] {
                       return queue_.size() >= wake_lines
                              || ((flushing_ || urgent_) && !queue_.empty());
                     });
      urgent_ = false;
      if (queue_.empty()) {
        drained_.notify_all();
        continue;
      }
      std::string batch;
      while (!queue_.empty() && batch.size() < (1 << 20)) {
        batch += queue_.front();
        queue_.pop_front();
      }
      writing_ = true;
      lock.unlock();
      std::fwrite(batch.data(), 1, batch.size(), stderr);
      std::fflush(stderr);
      lock.lock();
      writing_ = false;
      if (queue_.empty())
        drained_.notify_all();
    }
  }

  std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool flushing_ = false;
  bool urgent_ = false;
  std::atomic<int64_t> dropped_{0};
};

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

/// UTC with milliseconds: log timestamps sort and compare across zones.
/// The text up to the second is kept per thread (one gmtime a second).
std::string utc_now() {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[24];
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  if (t != cached_second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = t;
  }
  auto m = static_cast<int>(ms.count());
  std::string out = cached;
  out += '.';
  out += static_cast<char>('0' + m / 100);
  out += static_cast<char>('0' + m / 10 % 10);
  out += static_cast<char>('0' + m % 10);
  out += 'Z';
  return out;
}

}  // namespace

bool parse_log_level(std::string_view name, log_level& out) {
  for (auto l : {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (name == log_level_name(l)) {
      out = l;
      return true;
    }
  return false;
}

const char* log_level_name(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

void set_log_level(log_level level) {
  threshold.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool log_enabled(log_level level) {
  return static_cast<int>(level) >= threshold.load(std::memory_order_relaxed);
}

void log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"" + utc_now() + "\",\"level\":\"" + log_level_name(level) + "\",\"event\":";
  append_quoted(line, event);
  for (auto& f : fields) {
    line += ',';
    append_quoted(line, f.name);
    line += ':';
    if (f.raw)
      line += f.value.empty() ? "null" : f.value;
    else
      append_quoted(line, f.value);
  }
  line += "}\n";
  log_writer::instance().push(std::move(line), level >= log_level::warn);
}

void flush_log() {
  log_writer::instance().flush();
}

int64_t log_lines_dropped() {
  return log_writer::instance().dropped();
}

}  // namespace adserver
