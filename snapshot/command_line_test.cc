// The vmsnapshot command line read into one value: every option lands where main expects it, every bad value names
// the problem, and the config file is overridden by the options. (cli_test.cc runs the binary itself.)
#include "snapshot/command_line.h"

#include <string>
#include <vector>

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::snapshot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(ParseCommandLine, EveryOptionLandsInItsField) {
  absl::StatusOr<CommandLine> c = ParseCommandLine({"replay",
                                                    "fx1",
                                                    "--handler-environment",
                                                    "H",
                                                    "--cert-dir",
                                                    "C",
                                                    "--seq",
                                                    "7",
                                                    "--freeze-provider",
                                                    "fsfreeze",
                                                    "--deadline",
                                                    "100",
                                                    "--freeze-skip-mount",
                                                    "/a",
                                                    "--freeze-skip-mount",
                                                    "/b",
                                                    "--freeze-lock-file",
                                                    "L",
                                                    "--hold-ms",
                                                    "5",
                                                    "--budget-ms",
                                                    "6",
                                                    "--thaw-check-file",
                                                    "",
                                                    "--config",
                                                    "ignored.json",
                                                    "--vss-socket",
                                                    "V",
                                                    "--script-config",
                                                    "S",
                                                    "--freeze-mounts-file",
                                                    "M",
                                                    "--freeze-trace-log",
                                                    "T",
                                                    "--freeze-dry-run-log",
                                                    "D",
                                                    "--verbose",
                                                    "--blob-endpoint",
                                                    "E",
                                                    "--account-key-file",
                                                    "K",
                                                    "--work-dir",
                                                    "W",
                                                    "fx2"},
                                                   CommandLine{});
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_EQ(c->command, "replay");
  EXPECT_THAT(c->positional, ElementsAre("fx1", "fx2"));
  EXPECT_EQ(c->options.handler_environment, "H");
  EXPECT_EQ(c->options.cert_dir, "C");
  EXPECT_EQ(c->options.seq, 7);
  EXPECT_EQ(c->freeze_name, "fsfreeze");
  EXPECT_EQ(c->options.deadline, absl::Seconds(100));
  EXPECT_THAT(c->fsfreeze.skip_mounts, ElementsAre("/a", "/b"));
  EXPECT_EQ(c->fsfreeze.lock_file, "L");
  EXPECT_EQ(c->hold_ms, 5);
  EXPECT_EQ(c->budget_ms, 6);
  EXPECT_EQ(c->thaw_check_file, "");
  EXPECT_EQ(c->vss_socket, "V");
  EXPECT_EQ(c->script_config, "S");
  EXPECT_EQ(c->fsfreeze.mounts_file, "M");
  EXPECT_EQ(c->fsfreeze.trace_log, "T");
  EXPECT_EQ(c->fsfreeze.dry_run_log, "D");
  EXPECT_TRUE(c->options.echo_log_to_stderr);
  EXPECT_EQ(c->endpoint, "E");
  EXPECT_EQ(c->account_key_file, "K");
  EXPECT_EQ(c->work_dir, "W");
  EXPECT_FALSE(c->show_help);
}

struct BadCase {
  std::vector<std::string> args;
  std::string problem;
};

TEST(ParseCommandLine, BadOptionsNameTheProblem) {
  const BadCase kCases[] = {
      {{"enable", "--bogus"}, "unknown option --bogus"},
      {{"enable", "--seq"}, "--seq needs a non-negative number"},
      {{"enable", "--seq", "-1"}, "--seq needs a non-negative number"},
      {{"enable", "--deadline", "0"}, "--deadline needs seconds between 1 and 290"},
      {{"enable", "--deadline", "291"}, "--deadline needs seconds between 1 and 290"},
      {{"freeze-check", "--hold-ms", "x"}, "--hold-ms needs milliseconds"},
      {{"freeze-check", "--budget-ms", "0"}, "--budget-ms needs milliseconds"},
      {{"enable", "--freeze-skip-mount"}, "--freeze-skip-mount needs a mount point"},
      {{"enable", "--cert-dir"}, "--cert-dir needs a directory"},
      {{"enable", "--thaw-check-file"}, "--thaw-check-file needs a path (or \"\")"},
      {{"replay", "--blob-endpoint"}, "--blob-endpoint needs a URL"},
  };
  for (const BadCase& c : kCases) {
    EXPECT_THAT(ParseCommandLine(c.args, CommandLine{}).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, c.problem))
        << c.args.back();
  }
}

TEST(ParseCommandLine, HelpAndVersionStopReading) {
  absl::StatusOr<CommandLine> c = ParseCommandLine({"enable", "help", "--bogus"}, CommandLine{});
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_TRUE(c->show_help);
  c = ParseCommandLine({"--version", "--bogus"}, CommandLine{});
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_TRUE(c->show_version);
  // An earlier bad option is reported first.
  EXPECT_FALSE(ParseCommandLine({"--bogus", "--help"}, CommandLine{}).ok());
}

TEST(FromConfig, TheConfigSetsDefaultsAndTheOptionsWin) {
  proto::ExtensionConfig config;
  config.set_freezeprovider("fsfreeze");
  config.add_freezeskipmounts("/scratch");
  config.set_freezelockfile("/run/L");
  config.set_deadlineseconds(120);
  config.set_thawcheckfile("");
  CommandLine d = FromConfig(config, "/var/lib/waagent/Microsoft.Azure.VMSnapshot-1.0//");
  EXPECT_EQ(d.freeze_name, "fsfreeze");
  EXPECT_THAT(d.fsfreeze.skip_mounts, ElementsAre("/scratch"));
  EXPECT_EQ(d.fsfreeze.lock_file, "/run/L");
  EXPECT_EQ(d.options.deadline, absl::Seconds(120));
  EXPECT_EQ(d.thaw_check_file, "");
  EXPECT_EQ(d.options.cert_dir, "/var/lib/waagent") << "the handler folder's parent";
  absl::StatusOr<CommandLine> c =
      ParseCommandLine({"enable", "--freeze-provider", "none", "--freeze-skip-mount", "/tmp"}, d);
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_EQ(c->freeze_name, "none");
  EXPECT_THAT(c->fsfreeze.skip_mounts, ElementsAre("/scratch", "/tmp"));

  config.set_certdir("/certs");
  config.set_deadlineseconds(291);  // out of range: the default stays
  CommandLine e = FromConfig(config, nullptr);
  EXPECT_EQ(e.options.cert_dir, "/certs");
  EXPECT_EQ(e.options.deadline, absl::Seconds(270));
  EXPECT_EQ(FromConfig(proto::ExtensionConfig{}, nullptr).thaw_check_file, kDefaultThawCheckFile);
}

TEST(LoadExtensionConfig, AnExplicitFileMustExistAndParse) {
  const std::string dir = vmb::testing::PerTestDir();
  EXPECT_THAT(LoadExtensionConfig({"enable", "--config", dir + "/none.json"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot read --config")));
  ASSERT_THAT(file::WriteFileAtomic(dir + "/bad.json", "{freezeProvider", 0644), IsOk());
  EXPECT_THAT(LoadExtensionConfig({"enable", "--config", dir + "/bad.json"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.json is not valid JSON")));
  ASSERT_THAT(file::WriteFileAtomic(dir + "/c.json", R"({"vssSocket": "/run/v.sock"})", 0644), IsOk());
  absl::StatusOr<proto::ExtensionConfig> config =
      LoadExtensionConfig({"enable", "--config", dir + "/bad.json", "--config", dir + "/c.json"});
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_EQ(config->vsssocket(), "/run/v.sock") << "the last --config wins";
}

}  // namespace
}  // namespace vmb::snapshot
