#include "actors/targeting_index.hpp"

#include <gtest/gtest.h>

using namespace adserver;

namespace {
ad_request req(std::string placement, std::string term = "", std::string category = "") {
  ad_request r;
  r.placement = std::move(placement);
  r.search_term = std::move(term);
  r.category = std::move(category);
  return r;
}
}  // namespace

TEST(TargetingIndex, AnswersOnlyWhatSomeCampaignCouldMatch) {
  targeting_index idx;
  idx.add({"노트북", "gaming laptop"}, {"electronics/computers"});
  EXPECT_TRUE(idx.may_match(req("SEARCH", "노트북")));
  EXPECT_TRUE(idx.may_match(req("SEARCH", "gaming laptop")));
  EXPECT_FALSE(idx.may_match(req("SEARCH", "random-term-1234")));
  EXPECT_TRUE(idx.may_match(req("CATEGORY", "", "electronics/computers")));
  EXPECT_TRUE(idx.may_match(req("CATEGORY", "", "electronics/computers/laptops")));
  EXPECT_FALSE(idx.may_match(req("CATEGORY", "", "electronics")));  // the parent is not targeted
  EXPECT_FALSE(idx.may_match(req("CATEGORY", "", "electronics/computersx")));
  EXPECT_TRUE(idx.may_match(req("HOME")));
  EXPECT_TRUE(idx.may_match(req("PRODUCT_DETAIL")));
  idx.add({"tv"}, {});
  EXPECT_TRUE(idx.may_match(req("SEARCH", "tv")));
  EXPECT_TRUE(idx.may_match(req("SEARCH", "노트북")));
}

TEST(TargetingIndex, RandomSubPathsShareTheAuctionOfTheirTargetedAncestor) {
  targeting_index idx;
  idx.add({}, {"a/b", "a/b/c"});
  EXPECT_EQ(idx.targeted_category("a/b"), "a/b");
  EXPECT_EQ(idx.targeted_category("a/b/random-1"), "a/b");
  EXPECT_EQ(idx.targeted_category("a/b/random-2/deeper"), "a/b");
  EXPECT_EQ(idx.targeted_category("a/b/c/random"), "a/b/c");
  EXPECT_EQ(idx.targeted_category("a"), "");
  EXPECT_EQ(idx.targeted_category("x/y"), "");
}
