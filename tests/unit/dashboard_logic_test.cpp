// The dashboard window model: window boundaries in the business time zone
// (local midnight, a month end, a week start, a DST day) and what a
// window_book counts and flushes.
#include "actors/dashboard_logic.hpp"
#include "protocol/business_time.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace adserver;

namespace {

constexpr int64_t nov30_235930_kst = 1796050770;  // 2026-11-30T23:59:30+09:00 (Monday)
constexpr int64_t dec01_0000_kst = 1796050800;
constexpr int64_t nov30_0000_kst = 1795964400;
constexpr int64_t nov01_0000_kst = 1793458800;
constexpr int64_t dec07_0000_kst = 1796569200;
constexpr int64_t jan01_2027_kst = 1798729200;

dashboard_event event(const std::string& kind, const std::string& user, int64_t at_s) {
  dashboard_event e;
  e.campaign_id = 7;
  e.kind = kind;
  e.user_id = user;
  e.at_ms = at_s * 1000;
  return e;
}

int64_t pending_value(const std::vector<metric_delta>& d, window_unit unit, int64_t start,
                      metric m) {
  int64_t sum = 0;
  for (auto& x : d)
    if (x.window.unit == unit && x.window.start == start && x.type == m)
      sum += x.value;
  return sum;
}

class DashboardWindows : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(set_business_time_zone("Asia/Seoul")); }
  void TearDown() override { set_business_time_zone("UTC"); }
};

}  // namespace

TEST_F(DashboardWindows, LocalMidnightSplitsDaysAndAMonthEndSplitsMonths) {
  auto day = window_of(nov30_235930_kst, window_unit::day);
  EXPECT_EQ(day.start, nov30_0000_kst);
  EXPECT_EQ(day.end, dec01_0000_kst);
  auto next = window_of(dec01_0000_kst, window_unit::day);
  EXPECT_EQ(next.start, dec01_0000_kst);  // midnight belongs to the new day
  auto month = window_of(nov30_235930_kst, window_unit::month);
  EXPECT_EQ(month.start, nov01_0000_kst);
  EXPECT_EQ(month.end, dec01_0000_kst);
  auto december = window_of(dec01_0000_kst, window_unit::month);
  EXPECT_EQ(december.start, dec01_0000_kst);
  EXPECT_EQ(december.end, jan01_2027_kst);  // and a year end
  auto hour = window_of(nov30_235930_kst, window_unit::hour);
  EXPECT_EQ(hour.start, dec01_0000_kst - 3600);
  EXPECT_EQ(hour.end, dec01_0000_kst);
  auto minute = window_of(nov30_235930_kst, window_unit::minute);
  EXPECT_EQ(minute.start, dec01_0000_kst - 60);
  EXPECT_EQ(minute.end, dec01_0000_kst);
}

TEST_F(DashboardWindows, WeeksStartOnLocalMonday) {
  // Tuesday 2026-12-01 00:00 KST lies in the week from Monday 2026-11-30.
  auto week = window_of(dec01_0000_kst, window_unit::week);
  EXPECT_EQ(week.start, nov30_0000_kst);
  EXPECT_EQ(week.end, dec07_0000_kst);
  // In UTC the same moment is still Monday 15:00, in the same UTC week.
  ASSERT_TRUE(set_business_time_zone("UTC"));
  auto utc_day = window_of(dec01_0000_kst, window_unit::day);
  EXPECT_EQ(utc_day.start, 1796083200 - 86400);  // 2026-11-30T00:00Z
}

TEST_F(DashboardWindows, ADaylightSavingDayLasts25HoursAndHoursStayWhole) {
  ASSERT_TRUE(set_business_time_zone("America/New_York"));
  // 2026-11-01 in New York: clocks go back at 02:00 EDT.
  auto day = window_of(1793511000, window_unit::day);  // 01:30 EDT
  EXPECT_EQ(day.start, 1793505600);
  EXPECT_EQ(day.end, 1793595600);
  EXPECT_EQ(day.end - day.start, 25 * 3600);
  // The repeated 01:00 hour is two distinct hour windows.
  auto first = window_of(1793511000, window_unit::hour);
  auto second = window_of(1793514600, window_unit::hour);
  EXPECT_EQ(first.end - first.start, 3600);
  EXPECT_EQ(second.start, first.end);
}

TEST_F(DashboardWindows, HalfHourOffsetsAlignHoursToTheLocalClock) {
  ASSERT_TRUE(set_business_time_zone("Asia/Kolkata"));  // +05:30
  auto hour = window_of(1796050770, window_unit::hour);  // 20:29:30 IST
  EXPECT_EQ((hour.start + 19800) % 3600, 0);
  EXPECT_LE(hour.start, 1796050770);
  EXPECT_GT(hour.end, 1796050770);
}

TEST_F(DashboardWindows, EveryMetricCountsItsEventOnce) {
  window_book book;
  auto click = event("CLICK", "dev-1", nov30_235930_kst);
  click.charged = true;
  click.amount = 120;
  book.add(click);
  auto unbilled = event("CLICK", "dev-1", nov30_235930_kst);
  unbilled.reason = "DUPLICATE_CLICK";
  book.add(unbilled);
  book.add(event("IMPRESSION", "dev-2", nov30_235930_kst));
  auto conversion = event("CONVERSION", "dev-1", dec01_0000_kst);  // the next day
  conversion.revenue = 5000;
  book.add(conversion);
  auto [deltas, variants] = book.take_pending();
  auto day = nov30_0000_kst;
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::event_count), 3);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::clicks), 2);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::charged_clicks), 1);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::spend), 120);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::impressions), 1);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::unique_user_count), 2);
  EXPECT_EQ(pending_value(deltas, window_unit::day, day, metric::total_user_count), 3);
  EXPECT_EQ(pending_value(deltas, window_unit::day, dec01_0000_kst, metric::revenue), 5000);
  EXPECT_EQ(pending_value(deltas, window_unit::day, dec01_0000_kst, metric::conversions), 1);
  EXPECT_EQ(pending_value(deltas, window_unit::hour, dec01_0000_kst - 3600, metric::clicks), 2);
  EXPECT_EQ(pending_value(deltas, window_unit::minute, dec01_0000_kst - 60, metric::clicks), 2);
  EXPECT_TRUE(variants.empty());
  EXPECT_FALSE(book.has_pending());
}

TEST_F(DashboardWindows, UniqueUsersAreExactPerWindowAcrossFlushes) {
  window_book book;
  book.add(event("IMPRESSION", "dev-1", nov30_235930_kst));
  auto first = book.take_pending().first;
  book.add(event("IMPRESSION", "dev-1", nov30_235930_kst + 10));  // same user, same day
  book.add(event("IMPRESSION", "dev-3", nov30_235930_kst + 10));
  auto second = book.take_pending().first;
  book.add(event("IMPRESSION", "dev-1", dec01_0000_kst + 5));  // the next day
  auto third = book.take_pending().first;
  auto day = nov30_0000_kst;
  EXPECT_EQ(pending_value(first, window_unit::day, day, metric::unique_user_count), 1);
  EXPECT_EQ(pending_value(second, window_unit::day, day, metric::unique_user_count), 1);
  EXPECT_EQ(pending_value(second, window_unit::day, day, metric::event_count), 2);
  // The next day (its hour and minute too) sees dev-1 anew.
  EXPECT_EQ(pending_value(third, window_unit::day, dec01_0000_kst, metric::unique_user_count), 1);
  EXPECT_EQ(pending_value(third, window_unit::hour, dec01_0000_kst, metric::unique_user_count), 1);
}

TEST_F(DashboardWindows, AFailedFlushIsRestoredAndClosedWindowsAreForgotten) {
  window_book book;
  book.add(event("IMPRESSION", "dev-1", nov30_235930_kst));
  auto taken = book.take_pending();
  book.add(event("IMPRESSION", "dev-2", nov30_235930_kst));
  book.restore(taken.first, taken.second);
  auto all = book.take_pending().first;
  EXPECT_EQ(pending_value(all, window_unit::day, nov30_0000_kst, metric::impressions), 2);
  EXPECT_EQ(book.windows_held(), 3u);  // minute, hour, day
  book.drop_closed(dec01_0000_kst);
  EXPECT_EQ(book.windows_held(), 0u);
}

TEST_F(DashboardWindows, VariantsCountPerExperimentVariant) {
  window_book book;
  auto a = event("CLICK", "dev-1", nov30_235930_kst);
  a.exp_key = "price";
  a.exp_var = "A";
  a.charged = true;
  a.amount = 90;
  book.add(a);
  auto b = event("IMPRESSION", "dev-2", nov30_235930_kst);
  b.exp_key = "price";
  b.exp_var = "B";
  book.add(b);
  auto variants = book.take_pending().second;
  int64_t spend_a = 0, impressions_b = 0;
  for (auto& v : variants) {
    EXPECT_EQ(v.day.start, nov30_0000_kst);
    if (v.exp_var == "A" && v.type == metric::spend)
      spend_a += v.value;
    if (v.exp_var == "B" && v.type == metric::impressions)
      impressions_b += v.value;
  }
  EXPECT_EQ(spend_a, 90);
  EXPECT_EQ(impressions_b, 1);
}

TEST(DashboardMetrics, DerivedRatiosGuardAgainstZero) {
  std::array<int64_t, metric_count> v{};
  auto zero = derive(v);
  EXPECT_EQ(zero.ctr, 0);
  EXPECT_EQ(zero.roas, 0);
  v[static_cast<size_t>(metric::impressions)] = 200;
  v[static_cast<size_t>(metric::clicks)] = 10;
  v[static_cast<size_t>(metric::charged_clicks)] = 8;
  v[static_cast<size_t>(metric::spend)] = 800;
  v[static_cast<size_t>(metric::conversions)] = 2;
  v[static_cast<size_t>(metric::revenue)] = 4000;
  auto d = derive(v);
  EXPECT_DOUBLE_EQ(d.ctr, 0.05);
  EXPECT_DOUBLE_EQ(d.cvr, 0.2);
  EXPECT_DOUBLE_EQ(d.cpc, 100);
  EXPECT_DOUBLE_EQ(d.roas, 5);
  EXPECT_EQ(parse_unit("WEEK"), window_unit::week);
  EXPECT_FALSE(parse_unit("week").has_value());
  EXPECT_EQ(std::string(metric_name(metric::unique_user_count)), "UNIQUE_USER_COUNT");
}

TEST_F(DashboardWindows, MadeUpVariantsAreBoundedPerDay) {
  window_book book{100, 3};
  for (int i = 0; i < 10; ++i) {
    auto e = event("IMPRESSION", "dev", nov30_235930_kst);
    e.exp_key = "k";
    e.exp_var = std::to_string(i);
    book.add(e);
  }
  auto variants = book.take_pending().second;
  std::set<std::string> vars;
  for (auto& v : variants)
    vars.insert(v.exp_var);
  EXPECT_EQ(vars.size(), 3u);
  EXPECT_EQ(book.variants_refused(), 7);
}
