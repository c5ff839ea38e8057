#include "common/cli/account_key.h"

#include <cstdlib>

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

TEST(AccountKey, FromTheFileTheEnvironmentOrTheEmulatorOnly) {
  const std::string dir = ::vmb::testing::TempDir();
  ::unsetenv("VMBACKUP_ACCOUNT_KEY_FILE");
  EXPECT_THAT(ReadAccountKey("devstoreaccount1", ""), IsOkAndHolds(HasSubstr("Eby8vdM02xNOcqF")));
  EXPECT_THAT(ReadAccountKey("prodacct", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--account-key-file")));
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/key", "  c2VjcmV0a2V5\n", 0600).ok());
  EXPECT_THAT(ReadAccountKey("prodacct", dir + "/key"), IsOkAndHolds("c2VjcmV0a2V5"));
  ::setenv("VMBACKUP_ACCOUNT_KEY_FILE", (dir + "/key").c_str(), 1);
  EXPECT_THAT(ReadAccountKey("prodacct", ""), IsOkAndHolds("c2VjcmV0a2V5"));
  ::unsetenv("VMBACKUP_ACCOUNT_KEY_FILE");
  // A key others can read is refused, and the message does not carry the key.
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/open", "c2VjcmV0a2V5\n", 0644).ok());
  absl::StatusOr<std::string> open = ReadAccountKey("prodacct", dir + "/open");
  EXPECT_THAT(open, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("chmod 600")));
  EXPECT_THAT(std::string(open.status().message()), Not(HasSubstr("c2VjcmV0a2V5")));
  EXPECT_THAT(ReadAccountKey("prodacct", dir + "/missing"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace vmb::cli
