// The vmsnapshot command line: help, usage errors (exit 2, naming the problem) and the config file.

#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;

process::CommandResult Vmsnapshot(std::vector<std::string> args) {
  args.insert(args.begin(), "snapshot/vmsnapshot");
  return *process::RunCommand(args);
}

TEST(Cli, HelpAndUsageErrors) {
  process::CommandResult help = Vmsnapshot({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.stdout_data, HasSubstr("--freeze-provider"));
  EXPECT_EQ(Vmsnapshot({}).exit_code, 2);
  process::CommandResult bad = Vmsnapshot({"enable", "--bogus"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("unknown option --bogus"));
  bad = Vmsnapshot({"enable", "--freeze-provider", "magic", "--config", "/nonexistent/none.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("cannot read --config"));
  bad = Vmsnapshot({"enable", "--freeze-provider", "magic"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("available: none"));
  bad = Vmsnapshot({"frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("unknown command \"frobnicate\""));
}

TEST(Cli, ConfigFileChoosesTheProviderAndTheCommandLineWins) {
  std::string dir = vmb::testing::TempDir();
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/bad.json", "{freezeProvider", 0644).ok());
  process::CommandResult r = Vmsnapshot({"enable", "--config", dir + "/bad.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("bad.json is not valid JSON"));
  ASSERT_TRUE(file::WriteFileAtomic(dir + "/c.json", R"({"freezeProvider": "magic"})", 0644).ok());
  r = Vmsnapshot({"enable", "--config", dir + "/c.json", "--handler-environment", dir + "/none.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("unknown freeze provider \"magic\""));
  // The command line overrides the file: provider none is valid, so the run gets as far as the handler folder.
  r = Vmsnapshot({"enable", "--config", dir + "/c.json", "--freeze-provider", "none", "--handler-environment",
                  dir + "/none.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("--handler-environment"));
}

// install sets up the per-minute and at-boot stale-freeze check naming this binary; uninstall removes it.
TEST(Cli, InstallSetsUpTheStaleFreezeCheckAndUninstallRemovesIt) {
  std::string dir = vmb::testing::TempDir();
  std::string cron = dir + "/vmsnapshot-thaw-check";
  process::CommandResult r = Vmsnapshot({"install", "--thaw-check-file", cron, "--freeze-lock-file", dir + "/L"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  absl::StatusOr<std::string> text = file::ReadFile(cron);
  ASSERT_TRUE(text.ok()) << r.stdout_data;
  EXPECT_THAT(*text, HasSubstr("* * * * * root /"));
  EXPECT_THAT(*text, HasSubstr("@reboot root /"));
  EXPECT_THAT(*text, HasSubstr("vmsnapshot thaw-stale --freeze-lock-file " + dir + "/L"));
  r = Vmsnapshot({"uninstall", "--thaw-check-file", cron});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(file::ReadFile(cron).ok());
  // thaw-stale with nothing recorded: nothing to do, exit 0.
  r = Vmsnapshot({"thaw-stale", "--freeze-lock-file", dir + "/L"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stderr_data, "");
}

TEST(Cli, VersionIsTheHandlerVersion) {
  process::CommandResult r = Vmsnapshot({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, std::string("Microsoft.Azure.RecoveryServices.VMSnapshot ") + VMSNAPSHOT_VERSION + "\n");
}

}  // namespace
}  // namespace vmb::snapshot
