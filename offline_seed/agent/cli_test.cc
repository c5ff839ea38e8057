// seedagent's command line: help, and every usage error names the problem, points at --help and exits 2 without
// touching anything; a key file others can read is refused.
#include <climits>

#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;

process::CommandResult SeedAgent(std::vector<std::string> args) {
  char binary[PATH_MAX];
  EXPECT_NE(::realpath("offline_seed/agent/seedagent", binary), nullptr);
  args.insert(args.begin(), binary);
  process::RunOptions o;
  o.extra_env = {"VMBACKUP_ACCOUNT_KEY_FILE=", "VMBACKUP_BLOB_ENDPOINT="};
  o.timeout_ms = 30000;
  return *process::RunCommand(args, o);
}

TEST(SeedAgentCli, HelpAndUsageErrors) {
  process::CommandResult help = SeedAgent({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.stdout_data + help.stderr_data, HasSubstr("seedagent restore --staging DIR --recovery-point N"));

  const std::string staging = vmb::testing::TempPath("staging");
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{}, "no command given"},
      {{"frobnicate"}, "unknown command frobnicate"},
      {{"status"}, "needs --staging DIR"},
      {{"restore", "--staging", staging, "--target", staging + "/out"}, "restore needs --recovery-point N"},
      {{"restore", "--staging", staging, "--recovery-point", "0", "--target", staging + "/out"},
       "restore needs --recovery-point N"},
      {{"restore", "--staging", staging, "--recovery-point", "2"}, "restore needs --target DIR"},
      {{"initiate", "--staging", staging}, "initiate needs --"},
  };
  for (const Case& c : cases) {
    process::CommandResult r = SeedAgent(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << r.stderr_data;
    EXPECT_THAT(r.stderr_data, HasSubstr(c.says)) << joined;
    EXPECT_THAT(r.stderr_data, HasSubstr("--help")) << joined;
  }
  EXPECT_FALSE(file::ReadFile(staging + "/offline-job.json").ok()) << "a usage error wrote nothing";
}

}  // namespace
}  // namespace vmb::offline
