#include "actors/text_normalize.hpp"

#include <gtest/gtest.h>

using namespace adserver;

TEST(Normalize, TrimsCollapsesAndLowercases) {
  EXPECT_EQ(*normalize_term("  Gaming   LAPTOP \t"), "gaming laptop");
  EXPECT_EQ(*normalize_term("노트북"), "노트북");
  EXPECT_EQ(*normalize_term("  삼성  Galaxy   노트북 "), "삼성 galaxy 노트북");
  EXPECT_EQ(*normalize_term("   "), "");
}

TEST(Normalize, CountsCharactersNotBytes) {
  EXPECT_EQ(utf8_length("노트북"), 3u);
  EXPECT_EQ(utf8_length("ab"), 2u);
}

TEST(Normalize, RejectsBrokenUtf8) {
  EXPECT_FALSE(normalize_term(std::string("\xEB\x85", 2)));     // truncated
  EXPECT_FALSE(normalize_term(std::string("\xC0\xAF", 2)));     // overlong
  EXPECT_FALSE(normalize_term(std::string("\xED\xA0\x80", 3)));  // surrogate
  EXPECT_FALSE(normalize_term(std::string("\xFF", 1)));
  EXPECT_TRUE(is_valid_utf8("노트북 laptop"));
}
