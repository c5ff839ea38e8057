// The job log keeps the disk untouched while paused (the file systems are frozen then) and loses no line.
#include "snapshot/job_log.h"

#include "common/file/file_util.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(JobLog, PausedLinesWaitInMemoryAndReachTheFileOnResume) {
  const std::string dir = vmb::testing::PerTestDir() + "/log";
  const std::string path = dir + "/extension.log";
  FakeClock clock;
  JobLog log(clock, /*echo=*/false);
  log.logger().Info("before the folder is known");
  log.OpenFile(dir);
  EXPECT_THAT(file::ReadFile(path).value_or(""), HasSubstr("before the folder is known"));
  log.Pause();
  log.logger().Info("while frozen");
  EXPECT_THAT(file::ReadFile(path).value_or(""), Not(HasSubstr("while frozen")));
  EXPECT_THAT(log.All(), HasSubstr("while frozen"));
  log.Resume();
  EXPECT_THAT(file::ReadFile(path).value_or(""), HasSubstr("while frozen"));
  log.Close();
  log.logger().Info("after close");
  EXPECT_THAT(file::ReadFile(path).value_or(""), Not(HasSubstr("after close")));
  EXPECT_THAT(log.All(), HasSubstr("after close"));
}

TEST(JobLog, WithoutAFolderLinesStayInMemory) {
  FakeClock clock;
  JobLog log(clock, /*echo=*/false);
  log.OpenFile("/proc/no-such-folder");
  log.logger().Error("kept");
  EXPECT_THAT(log.All(), HasSubstr("kept"));
}

}  // namespace
}  // namespace vmb::snapshot
