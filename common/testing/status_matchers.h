// gMock matchers for absl::Status and absl::StatusOr (absl 20220623 ships none).
//
//   EXPECT_THAT(DoThing(), IsOk());
//   EXPECT_THAT(Parse("x"), IsOkAndHolds(Eq(3)));
//   EXPECT_THAT(Parse("?"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base64")));
#ifndef VMBACKUP_COMMON_TESTING_STATUS_MATCHERS_H_
#define VMBACKUP_COMMON_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace vmb::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()), result_listener);
}

MATCHER_P(StatusIs, code, "") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

}  // namespace vmb::testing

#endif  // VMBACKUP_COMMON_TESTING_STATUS_MATCHERS_H_
