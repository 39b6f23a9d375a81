#include "protocol/business_time.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>

namespace adserver {

namespace {
std::string zone_name = "UTC";
}

bool set_business_time_zone(const std::string& iana_name) {
  if (iana_name.empty() || iana_name.find("..") != std::string::npos)
    return false;
  struct stat st;
  if (iana_name != "UTC"
      && ::stat(("/usr/share/zoneinfo/" + iana_name).c_str(), &st) != 0)
    return false;
  // localtime_r follows TZ: the whole process shares the one business zone.
  ::setenv("TZ", iana_name.c_str(), 1);
  ::tzset();
  zone_name = iana_name;
  return true;
}

const std::string& business_time_zone() {
  return zone_name;
}

std::string business_date(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string business_today() {
  return business_date(std::chrono::system_clock::now());
}

int64_t business_seconds_into_day(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  // A leap second (tm_sec 60) stays inside the day.
  return std::min<int64_t>(86399, tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0)
    ms += 1000;
  std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s.%03d%c%02ld:%02ld", date, static_cast<int>(ms),
                sign, off / 3600, (off % 3600) / 60);
  return buf;
}

std::string iso8601_now() {
  return iso8601(std::chrono::system_clock::now());
}

int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t epoch_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::chrono::seconds until_next_business_day(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  tm.tm_hour = 0;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_mday += 1;
  tm.tm_isdst = -1;  // let mktime find the offset of that midnight
  std::time_t midnight = ::mktime(&tm);
  return std::chrono::seconds(std::max<int64_t>(1, midnight - secs));
}

namespace {

bool digits(const std::string& s, size_t at, size_t n, int& out) {
  if (at + n > s.size())
    return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<int64_t> parse_business_date(const std::string& text) {
  return text.size() == 10 ? parse_iso8601(text + "T00:00:00") : std::nullopt;
}

std::optional<int64_t> parse_iso8601(const std::string& s) {
  int year, month, day, hour, minute, second = 0;
  if (s.size() > 40 || !digits(s, 0, 4, year) || s.size() < 16 || s[4] != '-'
      || !digits(s, 5, 2, month) || s[7] != '-' || !digits(s, 8, 2, day)
      || (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, hour) || s[13] != ':'
      || !digits(s, 14, 2, minute))
    return std::nullopt;
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, i + 1, 2, second))
      return std::nullopt;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9')
        ++i;
      if (i == start || i - start > 9)
        return std::nullopt;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59
      || second > 60 || year < 1970 || year > 9999)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  if (i == s.size()) {
    tm.tm_isdst = -1;
    auto t = ::mktime(&tm);
    // mktime normalizes 2026-02-31 into March: refuse dates that moved.
    if (tm.tm_mday != day || tm.tm_mon != month - 1)
      return std::nullopt;
    return static_cast<int64_t>(t);
  }
  int offset = 0;
  if (s[i] == 'Z' && i + 1 == s.size()) {
    offset = 0;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    size_t rest = s.size() - i - 1;
    if (rest == 5 && digits(s, i + 1, 2, oh) && s[i + 3] == ':' && digits(s, i + 4, 2, om)) {
    } else if (rest == 4 && digits(s, i + 1, 2, oh) && digits(s, i + 3, 2, om)) {
    } else if (rest == 2 && digits(s, i + 1, 2, oh)) {
      om = 0;
    } else {
      return std::nullopt;
    }
    if (oh > 18 || om > 59)
      return std::nullopt;
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  auto t = ::timegm(&tm);
  if (tm.tm_mday != day || tm.tm_mon != month - 1)
    return std::nullopt;
  return static_cast<int64_t>(t) - offset;
}

}  // namespace adserver
