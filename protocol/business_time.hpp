#pragma once
// The one business time zone (SPEC.md "Time"): defines "today" for daily
// budgets and the offsets of timestamps on the wire.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace adserver {

/// Selects the business zone (an IANA name such as "Asia/Seoul") for the whole
/// process. False if the zone is unknown on this machine.
bool set_business_time_zone(const std::string& iana_name);
const std::string& business_time_zone();

/// Business date of a point in time, YYYY-MM-DD.
std::string business_date(std::chrono::system_clock::time_point t);
std::string business_today();
/// Wall-clock seconds since local midnight in the business zone (0-86399):
/// how far the business day has gone (pacing), and its hour (/ 3600).
int64_t business_seconds_into_day(std::chrono::system_clock::time_point t);

/// ISO 8601 with offset in the business zone, e.g. 2026-11-24T09:30:00.123+09:00.
std::string iso8601(std::chrono::system_clock::time_point t);
std::string iso8601_now();

/// Unix time in whole seconds (token expiry, duplicate and idle windows).
int64_t epoch_seconds();
/// Unix time in milliseconds (request deadlines: the same on every node).
int64_t epoch_millis();

/// Unix seconds of an ISO 8601 date-time ("2026-11-25T09:30:00", seconds and
/// fraction optional; "Z" or an offset such as "+09:00"; without one, local
/// time of the business zone). Nothing for anything else.
std::optional<int64_t> parse_iso8601(const std::string& text);
/// Unix seconds of local midnight starting a YYYY-MM-DD business date.
std::optional<int64_t> parse_business_date(const std::string& text);

/// Time from `t` to the next local midnight of the business zone (at least 1 s).
std::chrono::seconds until_next_business_day(std::chrono::system_clock::time_point t);

}  // namespace adserver
