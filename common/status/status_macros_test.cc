#include "common/status/status_macros.h"

#include <memory>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb {
namespace {

using ::testing::Eq;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MoveOnly() { return std::make_unique<int>(7); }

absl::StatusOr<int> UsesMoveOnly() {
  std::unique_ptr<int> p;
  ASSIGN_OR_RETURN(p, MoveOnly());
  return *p;
}

TEST(StatusMacros, PropagatesErrorsAndValues) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(Eq(2)));
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(CheckEven(4), IsOk());
  EXPECT_THAT(CheckEven(3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(UsesMoveOnly(), IsOkAndHolds(Eq(7)));
}

TEST(StatusMatchers, DescribeMismatches) {
  EXPECT_THAT(absl::NotFoundError("x"), ::testing::Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(3), ::testing::Not(IsOkAndHolds(Eq(4))));
  EXPECT_THAT(absl::NotFoundError("x"), ::testing::Not(StatusIs(absl::StatusCode::kInternal)));
}

}  // namespace
}  // namespace vmb
