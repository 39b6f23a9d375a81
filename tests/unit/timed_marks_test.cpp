#include "actors/timed_marks.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace adserver;

TEST(TimedMarks, AMarkIsKeptUntilItIsOldEnough) {
  timed_marks m;
  m.mark("a", 100);
  m.mark("b", 150);
  m.expire(1099, 1000);
  ASSERT_NE(m.marked_at("a"), nullptr);
  EXPECT_EQ(*m.marked_at("a"), 100);
  m.expire(1100, 1000);  // 1000 s old: gone, as the old sweep (now - at >= keep) did
  EXPECT_EQ(m.marked_at("a"), nullptr);
  ASSERT_NE(m.marked_at("b"), nullptr);
  EXPECT_EQ(m.size(), 1u);
}

TEST(TimedMarks, MarkingAgainKeepsTheKeyForTheNewMark) {
  timed_marks m;
  m.mark("a", 100);
  m.mark("a", 900);
  m.expire(1100, 1000);  // the first mark's entry reaches the front: the later mark stays
  ASSERT_NE(m.marked_at("a"), nullptr);
  EXPECT_EQ(*m.marked_at("a"), 900);
  m.expire(1900, 1000);
  EXPECT_EQ(m.marked_at("a"), nullptr);
  EXPECT_EQ(m.size(), 0u);
}

TEST(TimedMarks, ForgettingAMarkSparesALaterOne) {
  timed_marks m;
  m.mark("a", 100);
  m.forget_mark("a", 100);
  EXPECT_EQ(m.marked_at("a"), nullptr);
  m.mark("a", 200);
  m.forget_mark("a", 100);  // an undo of the first click must not drop the second
  ASSERT_NE(m.marked_at("a"), nullptr);
  m.forget("a");
  EXPECT_EQ(m.marked_at("a"), nullptr);
  m.mark("a", 300);
  m.expire(1150, 1000);  // the forgotten marks' entries leave without touching the new one
  ASSERT_NE(m.marked_at("a"), nullptr);
  EXPECT_EQ(*m.marked_at("a"), 300);
}

TEST(TimedMarks, MarksOutOfOrderAreNeverForgottenEarly) {
  timed_marks m;
  m.mark("new", 500);
  m.mark("old", 100);  // e.g. loaded from the database unsorted
  m.expire(1200, 1000);
  EXPECT_NE(m.marked_at("old"), nullptr);  // kept longer, never shorter
  m.expire(1500, 1000);
  EXPECT_EQ(m.marked_at("old"), nullptr);
  EXPECT_EQ(m.marked_at("new"), nullptr);
}

TEST(TimedMarks, ExpiryForgetsOnlyWhatIsDueAmongManyMarks) {
  timed_marks m;
  for (int i = 0; i < 100000; ++i)
    m.mark("k" + std::to_string(i), 1000 + i / 1000);
  m.expire(2000, 1000);  // only second 1000's marks are due
  EXPECT_EQ(m.size(), 99000u);
  EXPECT_EQ(m.marked_at("k999"), nullptr);
  EXPECT_NE(m.marked_at("k1000"), nullptr);
  m.expire(2099, 1000);
  EXPECT_EQ(m.size(), 0u);
}

TEST(TimedMarks, RepeatedMarksAndForgottenKeysLeaveWithTheirEntries) {
  timed_marks m;
  for (int i = 0; i < 100; ++i)
    m.mark("token", 100);  // the ledger marks a token again on a lost race
  EXPECT_EQ(m.queued(), 1u);
  m.mark("other", 100);
  m.forget("other");
  m.mark("other", 100);  // still the last entry: the same one serves
  EXPECT_EQ(m.queued(), 2u);
  m.forget("other");
  m.mark("third", 100);
  m.mark("other", 100);  // no longer the last entry: queued again
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.queued(), 4u);
  m.expire(1100, 1000);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.queued(), 0u);
  m.mark("token", 2000);  // a key whose entries all left starts afresh
  ASSERT_NE(m.marked_at("token"), nullptr);
  EXPECT_EQ(*m.marked_at("token"), 2000);
}

TEST(TimedMarks, ExpiryForgetsAtMostTheMarksItIsAllowedPerCall) {
  timed_marks m;
  for (int i = 0; i < 1000; ++i)
    m.mark("k" + std::to_string(i), 100);
  EXPECT_TRUE(m.expire(5000, 1000, 64));  // all are due; one call forgets 64, more are due
  EXPECT_EQ(m.size(), 936u);
  EXPECT_EQ(m.marked_at("k63"), nullptr);
  ASSERT_NE(m.marked_at("k64"), nullptr);
  EXPECT_EQ(*m.marked_at("k64"), 100);  // still there, with its age for the caller
  int calls = 1;
  while (m.expire(5000, 1000, 64))
    ++calls;
  EXPECT_EQ(calls, 15);  // 1000 marks, 64 a call: the 16th call forgets the last 40
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.expire(5000, 1000, 64));
}

TEST(TimedMarks, ACopyKeepsWorkingAfterTheOriginalIsGone) {
  auto original = std::make_unique<timed_marks>();
  original->mark("a", 100);
  original->mark("b", 200);
  original->forget("b");
  original->mark("c", 300);
  timed_marks copy{*original};
  timed_marks assigned;
  assigned.mark("x", 1);
  assigned = *original;
  original.reset();  // the copies' orders must not refer to its keys
  for (auto* m : {&copy, &assigned}) {
    EXPECT_EQ(m->size(), 2u);
    EXPECT_EQ(m->queued(), 3u);
    EXPECT_FALSE(m->expire(1250, 1000));
    EXPECT_EQ(m->marked_at("a"), nullptr);
    ASSERT_NE(m->marked_at("c"), nullptr);
    EXPECT_FALSE(m->expire(1300, 1000));
    EXPECT_EQ(m->size(), 0u);
    EXPECT_EQ(m->queued(), 0u);
  }
  timed_marks moved{std::move(copy)};
  EXPECT_EQ(copy.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  moved.mark("d", 5000);
  EXPECT_FALSE(moved.expire(5999, 1000));
  EXPECT_EQ(moved.size(), 1u);
}

TEST(TimedMarks, AdDeviceKeysDoNotCollide) {
  EXPECT_NE(ad_device_key("ad_1", "2dev"), ad_device_key("ad_12", "dev"));
  EXPECT_EQ(ad_device_key("ad_1", "dev"), ad_device_key("ad_1", "dev"));
}
