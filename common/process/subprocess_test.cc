#include "common/process/subprocess.h"

#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::process {
namespace {

using ::vmb::testing::StatusIs;

TEST(RunCommand, PipesLargeStdinThroughAndCapturesBothStreams) {
  std::string big(1 << 20, 'x');
  absl::StatusOr<CommandResult> r = RunCommand({"sh", "-c", "cat; echo err >&2; exit 3"}, big);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, big);
  EXPECT_EQ(r->stderr_data, "err\n");
}

TEST(RunCommand, ReportsSignalsAndMissingPrograms) {
  absl::StatusOr<CommandResult> r = RunCommand({"sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 128 + 9);
  EXPECT_THAT(RunCommand({"/nonexistent/tool"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(RunCommand, EnvironmentDirectoryAndTimeout) {
  RunOptions o;
  o.extra_env = {"VMB_TEST_VALUE=42"};
  o.cwd = "/";
  absl::StatusOr<CommandResult> r = RunCommand({"sh", "-c", "echo $VMB_TEST_VALUE; pwd"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data, "42\n/\n");
  RunOptions t;
  t.timeout_ms = 100;
  absl::Time start = absl::Now();
  r = RunCommand({"sh", "-c", "sleep 30; echo never"}, t);  // the grandchild holds stdout open: kill the group
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 128 + 9);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace vmb::process
