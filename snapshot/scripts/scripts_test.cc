#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/error_codes.h"
#include "snapshot/scripts/scripts_provider.h"
#include "snapshot/testing/freeze_contract.h"

namespace vmb::snapshot::scripts {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;

// Appends "freeze" / "thaw" to the same log the scripts write to, to check the order.
class LoggingFreeze : public FreezeProvider {
 public:
  explicit LoggingFreeze(std::string log) : log_(std::move(log)) {}
  std::string name() const override { return "logging"; }
  Consistency consistency() const override { return kFileSystemConsistent; }
  absl::Status Freeze(absl::Duration) override { return Append("freeze"); }
  absl::Status Thaw() override { return Append("thaw"); }

 private:
  absl::Status Append(const std::string& what) {
    std::string text = file::ReadFile(log_).value_or("");
    return file::WriteFileAtomic(log_, text + what + "\n", 0644);
  }
  std::string log_;
};

class ScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    ASSERT_THAT(file::MakeDirs(dir_), IsOk());
    log_ = dir_ + "/order.log";
    WriteScript("pre.sh", "echo \"pre $1\" >> " + log_);
    WriteScript("post.sh", "echo \"post $1\" >> " + log_);
  }
  void WriteScript(const std::string& name, const std::string& body, mode_t mode = 0700) {
    ASSERT_THAT(file::WriteFileAtomic(dir_ + "/" + name, "#!/bin/sh\n" + body + "\n", mode), IsOk());
  }
  std::string WriteConfig(const std::string& extra = "", mode_t mode = 0600) {
    std::string cfg = absl::StrCat(R"({"pluginName":"ScriptRunner","preScriptLocation":")", dir_,
                                   R"(/pre.sh","postScriptLocation":")", dir_,
                                   R"(/post.sh","preScriptParams":["p1",""],"postScriptParams":["q1"],)",
                                   R"("preScriptNoOfRetries":0,"postScriptNoOfRetries":0,"timeoutInSeconds":5,)",
                                   R"("continueBackupOnFailure":false,"fsFreezeEnabled":true)", extra, "}");
    std::string path = dir_ + "/VMSnapshotScriptPluginConfig.json";
    EXPECT_THAT(file::WriteFileAtomic(path, cfg, mode), IsOk());
    return path;
  }
  ScriptsProvider Make(const std::string& config) {
    return ScriptsProvider(config, std::make_unique<LoggingFreeze>(log_));
  }
  std::string Log() { return file::ReadFile(log_).value_or(""); }

  std::string dir_, log_;
};

TEST_F(ScriptsTest, PreFreezeThawPostInOrderAndApplicationConsistent) {
  ScriptsProvider p = Make(WriteConfig());
  ASSERT_THAT(p.Freeze(absl::Seconds(10)), IsOk());
  ASSERT_THAT(p.Thaw(), IsOk());
  EXPECT_EQ(Log(), "pre p1\nfreeze\nthaw\npost q1\n");
  EXPECT_EQ(p.consistency(), kApplicationConsistent);
}

TEST_F(ScriptsTest, ConfigChecks) {
  EXPECT_EQ(CodeOf(Make(dir_ + "/missing.json").Freeze(absl::Seconds(1)), 0), 316);
  EXPECT_EQ(CodeOf(Make(WriteConfig("", 0644)).Freeze(absl::Seconds(1)), 0), 317);
  ASSERT_THAT(file::WriteFileAtomic(dir_ + "/bad.json", "{not json", 0600), IsOk());
  EXPECT_EQ(CodeOf(Make(dir_ + "/bad.json").Freeze(absl::Seconds(1)), 0), 305);
  std::string cfg = WriteConfig();
  if (::chown(cfg.c_str(), 65534, 65534) != 0) {
    std::cerr << "note: cannot chown here (not root, or a user namespace); the owner check is not exercised\n";
  } else {
    absl::Status s = Make(cfg).Freeze(absl::Seconds(1));
    EXPECT_EQ(CodeOf(s, 0), 318) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("owned by uid 65534"));
  }
  EXPECT_TRUE(Log().empty()) << "no script ran";
}

// Failing: a pre-script that is group-writable is refused (306) before anything runs.
TEST_F(ScriptsTest, KeepsTheFreezeProviderContract) {
  const std::string config = WriteConfig();
  snapshot::testing::ExpectFreezeContract({[&] {
                                             return std::unique_ptr<FreezeProvider>(
                                                 new ScriptsProvider(config, std::make_unique<LoggingFreeze>(log_)));
                                           },
                                           nullptr});
  WriteScript("pre.sh", "echo pre >> " + log_, 0775);
  snapshot::testing::ExpectFreezeContract({nullptr, [&] {
                                             return std::unique_ptr<FreezeProvider>(
                                                 new ScriptsProvider(config, std::make_unique<LoggingFreeze>(log_)));
                                           }});
}

TEST_F(ScriptsTest, ScriptChecksFailuresAndContinueOnFailure) {
  WriteScript("pre.sh", "echo pre >> " + log_, 0755);
  absl::Status s = Make(WriteConfig()).Freeze(absl::Seconds(1));
  EXPECT_EQ(CodeOf(s, 0), 306) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("chmod 700"));
  ::unlink((dir_ + "/pre.sh").c_str());
  EXPECT_EQ(CodeOf(Make(WriteConfig()).Freeze(absl::Seconds(1)), 0), 302);

  WriteScript("pre.sh", "echo pre >> " + log_ + "; exit 7");
  s = Make(WriteConfig()).Freeze(absl::Seconds(1));
  EXPECT_EQ(CodeOf(s, 0), 300) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("exited with 7"));
  EXPECT_EQ(Log(), "pre\n") << "not frozen after a failed pre-script";

  // continueBackupOnFailure: the backup goes on, file-system consistent at best, and the status says why.
  ScriptsProvider p = Make(WriteConfig(R"(,"continueBackupOnFailure":true)"));
  ASSERT_THAT(p.Freeze(absl::Seconds(1)), IsOk());
  ASSERT_THAT(p.Thaw(), IsOk());
  EXPECT_EQ(p.consistency(), kFileSystemConsistent);
  EXPECT_THAT(p.notes(), HasSubstr("not application-consistent"));
}

TEST_F(ScriptsTest, RetriesReallyRerunAndTimeoutsAreNamed) {
  std::string counter = dir_ + "/count";
  WriteScript("pre.sh",
              "n=$(cat " + counter + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + counter + "; [ $n -ge 3 ]");
  ScriptsProvider p = Make(WriteConfig(R"(,"preScriptNoOfRetries":2)"));
  ASSERT_THAT(p.Freeze(absl::Seconds(1)), IsOk());
  EXPECT_EQ(*file::ReadFile(counter), "3\n");
  ASSERT_THAT(p.Thaw(), IsOk());

  WriteScript("pre.sh", "sleep 30");
  absl::Status s = Make(WriteConfig(R"(,"timeoutInSeconds":1)")).Freeze(absl::Seconds(1));
  EXPECT_EQ(CodeOf(s, 0), 308) << s;

  WriteScript("pre.sh", "true");
  WriteScript("post.sh", "exit 9");
  ScriptsProvider q = Make(WriteConfig());
  ASSERT_THAT(q.Freeze(absl::Seconds(1)), IsOk());
  EXPECT_EQ(CodeOf(q.Thaw(), 0), 301);
}

}  // namespace
}  // namespace vmb::snapshot::scripts
