#include "actors/business_time.hpp"

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

}  // namespace adserver
