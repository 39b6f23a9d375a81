#include "protocol/business_time.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {
std::chrono::system_clock::time_point at_epoch(int64_t s) {
  return std::chrono::system_clock::time_point{std::chrono::seconds(s)};
}
}  // namespace

TEST(BusinessTime, NextDayStartsAtLocalMidnight) {
  ASSERT_TRUE(set_business_time_zone("Asia/Seoul"));
  // 2026-11-30T23:59:30+09:00 (a month end) is 2026-11-30T14:59:30Z.
  auto t = at_epoch(1796050770);
  EXPECT_EQ(business_date(t), "2026-11-30");
  EXPECT_EQ(until_next_business_day(t).count(), 30);
  EXPECT_EQ(business_date(t + std::chrono::seconds(30)), "2026-12-01");
  // Exactly at midnight the next day is a whole day away.
  EXPECT_EQ(until_next_business_day(t + std::chrono::seconds(30)).count(), 86400);
  ASSERT_TRUE(set_business_time_zone("UTC"));
  EXPECT_EQ(until_next_business_day(t).count(), 9 * 3600 + 30);
}
