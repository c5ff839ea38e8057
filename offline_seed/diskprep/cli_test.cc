// diskprep's command line without a control plane: --help (with a drive source flag's line), --list through a
// drive source flag, and the usage errors and failures, each with its message and exit status (0 done, 1 failed,
// 2 bad usage). The whole flow through the real binary is tools/offline_flow_e2e_test.
#include "offline_seed/diskprep/cli.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/file/file_util.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep_testing.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Outcome {
  int status;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    ::setenv("VMBACKUP_AGENT_DIR", (dir_ + "/agent").c_str(), 1);
    ::unsetenv("VMBACKUP_CONTROL_PLANE");
    ::unsetenv("VMBACKUP_TOKEN");
  }

  // RunDiskPrep with `args` (after the program name) and a --mem flag whose drives are d1 (usable) and u1 (USB).
  Outcome Diskprep(std::vector<std::string> args) {
    args.insert(args.begin(), "diskprep");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    DriveSourceFlag mem{"--mem", "--mem NAME          drives in memory",
                        [](const std::string& name) -> absl::StatusOr<std::unique_ptr<DriveEnumerator>> {
                          if (name != "bay") return absl::NotFoundError("no such memory bay");
                          auto drives = std::make_unique<diskprep_testing::MemoryDrives>();
                          drives->Add(diskprep_testing::UsableDrive("d1", 64u << 20));
                          drives::proto::DriveInfo usb = diskprep_testing::UsableDrive("u1", 128u << 20);
                          usb.set_interface("usb");
                          drives->Add(usb);
                          return drives;
                        }};
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int status = RunDiskPrep(static_cast<int>(argv.size()), argv.data(), {mem});
    std::string out = ::testing::internal::GetCapturedStdout();
    return {status, out, ::testing::internal::GetCapturedStderr()};
  }

  // Bad usage: exit status 2, "diskprep: <message>" and the pointer to --help.
  void ExpectUsage(const std::vector<std::string>& args, const std::string& message) {
    Outcome r = Diskprep(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err, "diskprep: " + message + "\n(run `diskprep --help`)\n");
    EXPECT_EQ(r.out, "");
  }

  std::string dir_;
};

TEST_F(CliTest, HelpListsTheDriveSourceFlags) {
  for (const char* help : {"--help", "/?"}) {
    Outcome r = Diskprep({help, "--bogus"});
    EXPECT_EQ(r.status, 0);
    EXPECT_THAT(r.out, StartsWith("usage: diskprep s:<staging location>"));
    EXPECT_THAT(r.out, HasSubstr("Options:\n  --mem NAME          drives in memory\n  --list"));
    EXPECT_THAT(r.out, HasSubstr("--cancel"));
  }
}

TEST_F(CliTest, ListShowsEveryDriveAndWhetherItCanBeUsed) {
  Outcome r = Diskprep({"--list", "--mem", "bay"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("d1         Model d1                   SN-d1                 0.1 GB  2.5\" ssd sata3  "
                               "usable\n"));
  EXPECT_THAT(r.out, HasSubstr("u1 "));
  EXPECT_THAT(r.out, HasSubstr("not usable: its interface is usb; only internal SATA II/III drives are accepted\n"));
}

TEST_F(CliTest, FlagsThatNeedAValue) {
  ExpectUsage({"--drive"}, "--drive needs a name");
  ExpectUsage({"--control-plane"}, "--control-plane needs a URL");
  ExpectUsage({"--token"}, "--token needs a value");
  ExpectUsage({"--resource-group"}, "--resource-group needs a name");
  ExpectUsage({"u:", "--carrier"}, "--carrier needs a value");
  ExpectUsage({"--mem"}, "--mem needs a value");
  ExpectUsage({"--list", "--bogus"}, "unexpected argument --bogus");
}

TEST_F(CliTest, PreparingNeedsAStagingLocationDrivesAConfirmationAndAnEndpoint) {
  ExpectUsage({"--mem", "bay"}, "s:<staging location> is required");
  ExpectUsage({"s:" + dir_ + "/staging", "--mem", "bay"}, "choose the drives with --drive NAME (see --list)");
  ExpectUsage({"s:" + dir_ + "/staging", "--mem", "bay", "--drive", "d1", "--yes"},
              "no management endpoint: --control-plane URL");
  ExpectUsage({"--mem", "elsewhere", "--list"}, "no such memory bay");
}

TEST_F(CliTest, AFailedPreparationExitsWith1) {
  Outcome r = Diskprep({"S:" + dir_ + "/staging", "--mem", "bay", "--drive", "d1", "--yes", "--control-plane",
                        "http://127.0.0.1:1", "--json"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("diskprep: " + dir_ + "/staging is not a staging location"));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, ShippingFindsTheJobThisComputerPrepared) {
  ExpectUsage({"u:"},
              "no import job is recorded on this computer; on the source computer give the publish settings "
              "file entered at \"Initiate offline backup\" (u: p:<file>; the job is then found in its "
              "subscription), or from any computer u: s:<staging> p:<file>");
  ExpectUsage({"U:", "s:" + dir_ + "/staging"}, "no management endpoint: --control-plane URL");
  Outcome r = Diskprep({"u:", "s:" + dir_ + "/staging", "--control-plane", "http://127.0.0.1:1", "--cancel"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, StartsWith("diskprep: cannot cancel: "));
  r = Diskprep({"u:", "s:" + dir_ + "/staging", "--control-plane", "http://127.0.0.1:1", "--status"});
  EXPECT_EQ(r.status, 2);
  r = Diskprep({"u:", "s:" + dir_ + "/staging", "--control-plane", "http://127.0.0.1:1", "--carrier", "DHL"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, StartsWith("diskprep: "));
}

// p: is checked before anything else (before a drive is formatted or a job looked up): a file that is missing or
// is no publish settings file ends the command with exit status 2, naming it.
TEST_F(CliTest, APublishSettingsFileThatDoesNotLoadIsRefusedFirst) {
  const std::string missing = dir_ + "/nowhere.publishsettings";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"u:", "p:" + missing},
           {"s:" + dir_ + "/staging", "p:" + missing, "--mem", "bay", "--drive", "d1", "--yes"}}) {
    Outcome r = Diskprep(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_THAT(r.err, StartsWith("diskprep: p:" + missing + ": cannot read the publish settings file: "));
    EXPECT_THAT(r.err, HasSubstr(missing + ": No such file or directory"));
    EXPECT_THAT(r.err, HasSubstr("give the publish settings file entered at \"Initiate offline backup\""));
  }
  const std::string bad = dir_ + "/bad.publishsettings";
  ASSERT_TRUE(file::WriteFileAtomic(bad, "<html>not it</html>", 0600).ok());
  ExpectUsage({"u:", "p:" + bad, "--status"},
              "p:" + bad + ": " + bad +
                  " is not a .publishsettings file (no <PublishData>); give the publish "
                  "settings file entered at \"Initiate offline backup\"");
}

TEST_F(CliTest, HelpSaysWhatReplacesTheManagementCertificate) {
  Outcome r = Diskprep({"--help"});
  EXPECT_THAT(r.out, HasSubstr("Its management\ncertificate is not used to sign in: the Import/Export API these tools "
                               "speak (Azure Resource Manager) accepts only\nAzure AD bearer tokens, so --token / "
                               "$VMBACKUP_TOKEN replaces it"));
  EXPECT_THAT(r.out, HasSubstr("--job NAME"));
}

}  // namespace
}  // namespace vmb::offline
