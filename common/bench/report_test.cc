#include "common/bench/report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::bench {
namespace {

using ::testing::HasSubstr;

TEST(Report, VerdictsFollowTheTargets) {
  EXPECT_EQ(AtLeastRatio("a", "a", 95, "MB/s", 100, "bound", 0.9).verdict(), "pass");
  EXPECT_EQ(AtLeastRatio("a", "a", 85, "MB/s", 100, "bound", 0.9).verdict(), "miss");
  EXPECT_EQ(AtLeastRatio("a", "a", 85, "MB/s", 0, "bound", 0.9).verdict(), "miss");  // no reference: not a pass
  EXPECT_EQ(AtMostRatio("b", "b", 10, "s", 100, "initial", 0.2).verdict(), "pass");
  EXPECT_EQ(AtMostRatio("b", "b", 30, "s", 100, "initial", 0.2).verdict(), "miss");
  EXPECT_EQ(AtMost("c", "c", 249, "ms", 250).verdict(), "pass");
  EXPECT_EQ(AtMost("c", "c", 251, "ms", 250).verdict(), "miss");
  EXPECT_EQ(Info("d", "d", 1, "x").verdict(), "info");
  EXPECT_DOUBLE_EQ(AtLeastRatio("a", "a", 50, "MB/s", 200, "bound", 0.9).ratio(), 0.25);
  // The score is >= 1 exactly when the target is met, whatever the direction.
  EXPECT_GE(AtLeastRatio("a", "a", 95, "MB/s", 100, "bound", 0.9).score(), 1.0);
  EXPECT_LT(AtLeastRatio("a", "a", 85, "MB/s", 100, "bound", 0.9).score(), 1.0);
  EXPECT_GE(AtMostRatio("b", "b", 10, "s", 100, "initial", 0.2).score(), 1.0);
  EXPECT_LT(AtMostRatio("b", "b", 30, "s", 100, "initial", 0.2).score(), 1.0);
  EXPECT_GE(AtMost("c", "c", 249, "ms", 250).score(), 1.0);
  EXPECT_LT(AtMost("c", "c", 251, "ms", 250).score(), 1.0);
}

TEST(Report, TableShowsValueReferenceRatioTargetAndVerdict) {
  proto::Report r;
  *r.add_figures() = AtLeastRatio("prep", "drive prep copy pass", 360, "MB/s", 313, "machine bound", 0.9);
  std::string t = Table(r);
  EXPECT_THAT(t, HasSubstr("drive prep copy pass"));
  EXPECT_THAT(t, HasSubstr("360 MB/s"));
  EXPECT_THAT(t, HasSubstr("313 machine bound"));
  EXPECT_THAT(t, HasSubstr("1.15"));
  EXPECT_THAT(t, HasSubstr(">= 0.90 x ref"));
  EXPECT_THAT(t, HasSubstr("pass"));
}

}  // namespace
}  // namespace vmb::bench
