#include <gtest/gtest.h>

#include "qwen3vl/runtime/stop_strings.h"

using namespace qwen3vl;

TEST(StopStrings, StopStringSplitAcrossPiecesIsNeverShown) {
  StopStringFilter f({"</answer>"});
  std::string shown;
  for (const char* p : {"The cat", " sat</an", "swer> and more"}) {
    auto o = f.push(p);
    shown += o.emit;
    if (o.stopped) break;
  }
  EXPECT_EQ(shown, "The cat sat");
}

TEST(StopStrings, HeldBackTextIsReleasedWhenItIsNotAStop) {
  StopStringFilter f({"STOP"});
  auto a = f.push("abcST");
  EXPECT_EQ(a.emit, "abc");
  EXPECT_FALSE(a.stopped);
  auto b = f.push("ILL");
  EXPECT_EQ(b.emit, "STILL");
  EXPECT_EQ(f.flush("ST"), "ST");
}

TEST(StopStrings, EarliestOfSeveralStopsWins) {
  StopStringFilter f({"b", "zz", "a"});
  auto o = f.push("xxaxxb");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.emit, "xx");
}

TEST(StopStrings, NoStopsPassesThrough) {
  StopStringFilter f({});
  EXPECT_EQ(f.push("héllo").emit, "héllo");
  EXPECT_EQ(f.flush(), "");
}

TEST(StopStrings, NeverSplitsUtf8WhenHoldingBack) {
  StopStringFilter f({"\xC3\xA9X"});  // "éX"
  auto o = f.push("a\xC3\xA9");
  EXPECT_EQ(o.emit, "a");
  EXPECT_EQ(f.flush(), "\xC3\xA9");
}
