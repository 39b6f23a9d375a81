#include "actors/expiring_set.hpp"

#include <gtest/gtest.h>

using namespace adserver;

TEST(ExpiringSet, AKeyCountsOnceUntilItExpires) {
  expiring_set seen{10};
  EXPECT_TRUE(seen.insert("req-1 ad_7", 100, 0));
  EXPECT_FALSE(seen.insert("req-1 ad_7", 100, 50));
  EXPECT_TRUE(seen.insert("req-1 ad_8", 100, 50));  // another ad of the request
  EXPECT_TRUE(seen.insert("req-1 ad_7", 200, 100));  // expired: a token no longer valid anyway
}

TEST(ExpiringSet, MemoryIsBoundedOldestFirst) {
  expiring_set seen{3};
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(seen.insert("k" + std::to_string(i), 1000, 0));
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.evicted_early(), 2);
  EXPECT_FALSE(seen.insert("k4", 1000, 1));
  EXPECT_TRUE(seen.insert("k0", 1000, 1));  // forgotten early, by design
}
