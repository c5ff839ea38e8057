// seedagent's commands without Azure: the vault and the storage account are an in-memory fake of the Blob API, and
// no control plane is given (so the import job is never found done).
#include "offline_seed/agent/workflow.h"

#include <cstdio>
#include <cstdlib>

#include "common/blob/testing/fake_blob_service.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::vmb::testing::IsOk;

// Runs one command with its output in memory.
class Agent {
 public:
  struct Result {
    int exit;
    std::string out, err;
  };

  Result Run(const std::string& command, Flags opt, bool json = false, std::vector<std::string> sources = {}) {
    char *out = nullptr, *err = nullptr;
    size_t out_size = 0, err_size = 0;
    AgentEnv env;
    env.console.out = ::open_memstream(&out, &out_size);
    env.console.err = ::open_memstream(&err, &err_size);
    env.transport = &blobs_;
    AgentRequest request{command, std::move(opt), std::move(sources), json};
    Result r;
    if (command == "initiate") {
      r.exit = RunInitiate(request, env);
    } else if (command == "restore-staging") {
      r.exit = RunRestoreStaging(request, env);
    } else {
      r.exit = RunStagedCommand(request, env);
    }
    std::fclose(env.console.out);
    std::fclose(env.console.err);
    r.out.assign(out, out_size);
    r.err.assign(err, err_size);
    std::free(out);
    std::free(err);
    return r;
  }

  int requests() { return blobs_.request_count(); }

 private:
  blob::testing::FakeBlobService blobs_;
};

// A staging location with a small initial backup of one folder (no Azure needed to write one).
std::string Staged(const std::string& dir) {
  const std::string src = dir + "/src", staging = dir + "/staging";
  EXPECT_THAT(file::MakeDirs(src), IsOk());
  EXPECT_THAT(file::WriteFileAtomic(src + "/f.txt", "offline seeding", 0644), IsOk());
  InitiateOptions o;
  o.sources = {src};
  o.staging = staging;
  o.job.set_jobname("seedjob1");
  o.job.set_subscriptionid("sub-123");
  o.job.set_storageaccount("seedacct");
  o.job.set_container("offline");
  EXPECT_THAT(InitiateOfflineBackup(o).status(), IsOk());
  return staging;
}

// Every usage error exits 2 naming the problem, before anything is read or contacted.
TEST(Workflow, UsageErrorsComeFirst) {
  const std::string staging = vmb::testing::PerTestDir() + "/staging";
  struct Case {
    std::string command;
    Flags opt;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"status", {}, "status needs --staging DIR"},
      {"backup", {{"staging", ""}}, "backup needs --staging DIR"},
      {"restore", {{"staging", staging}, {"target", "t"}}, "restore needs --recovery-point N"},
      {"restore", {{"staging", staging}, {"recovery-point", "x"}, {"target", "t"}}, "restore needs --recovery-point N"},
      {"restore", {{"staging", staging}, {"recovery-point", "1"}}, "restore needs --target DIR"},
      {"restore-staging", {{"staging", staging}}, "restore-staging needs --staging and --output"},
      {"initiate", {{"staging", staging}}, "initiate needs --publish-settings"},
      {"initiate",
       {{"staging", staging},
        {"publish-settings", "p"},
        {"job-name", "j"},
        {"subscription-id", "s"},
        {"storage-account", "a"},
        {"container", "c"}},
       "initiate needs at least one --source"},
  };
  Agent agent;
  for (const Case& c : cases) {
    Agent::Result r = agent.Run(c.command, c.opt);
    EXPECT_EQ(r.exit, 2) << c.says << ": " << r.err;
    EXPECT_THAT(r.err, StartsWith(absl::StrCat("seedagent: ", c.says)));
    EXPECT_THAT(r.err, HasSubstr("(run `seedagent --help`)"));
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(agent.requests(), 0);
  EXPECT_FALSE(file::ReadFile(staging + "/offline-job.json").ok());
}

TEST(Workflow, AFolderThatIsNotAStagingLocationFails) {
  Agent agent;
  Agent::Result r = agent.Run("status", {{"staging", vmb::testing::TempPath("nowhere")}});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("is not a staging location (no offline-job.json); run `seedagent initiate` first"));
}

TEST(Workflow, AStagingLocationWithoutAnItemIdIsRefused) {
  const std::string staging = Staged(vmb::testing::PerTestDir());
  absl::StatusOr<proto::ImportJobRecord> job = ReadStagedJob(staging);
  ASSERT_THAT(job.status(), IsOk());
  job->clear_itemid();
  ASSERT_THAT(file::WriteFileAtomic(staging + "/offline-job.json", json::ToJson(*job, true), 0600), IsOk());
  Agent agent;
  Agent::Result r = agent.Run("backup", {{"staging", staging}});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("was staged by an older seedagent and has no protected-item id"));
  EXPECT_EQ(agent.requests(), 0);
}

// Before the import completes: status and backup say they wait (and why the job's state is unknown), as text and as
// JSON; a backup takes nothing.
TEST(Workflow, BeforeTheImportStatusAndBackupWait) {
  const std::string staging = Staged(vmb::testing::PerTestDir());
  Agent agent;
  const char* kNote = "(no control plane given: --control-plane / $VMBACKUP_CONTROL_PLANE)";
  Agent::Result status = agent.Run("status", {{"staging", staging}});
  EXPECT_EQ(status.exit, 0) << status.err;
  EXPECT_EQ(status.out,
            absl::StrCat("Waiting for Azure Import Job to complete. Please check on Azure Management portal "
                         "for more information on job status\n(import job seedjob1: unknown) ",
                         kNote, "\n"));
  Agent::Result json = agent.Run("status", {{"staging", staging}}, true);
  EXPECT_EQ(json.exit, 0);
  EXPECT_THAT(json.out, HasSubstr("\"state\":\"WaitingForImport\""));
  EXPECT_THAT(json.out, HasSubstr("\"importJob\":\"seedjob1\""));
  Agent::Result backup = agent.Run("backup", {{"staging", staging}});
  EXPECT_EQ(backup.exit, 0) << backup.err;
  EXPECT_THAT(backup.out, HasSubstr(absl::StrCat(kNote, "; no backup taken\n")));
  Agent::Result points = agent.Run("recovery-points", {{"staging", staging}});
  EXPECT_EQ(points.exit, 0) << points.err;
  EXPECT_EQ(points.out, "no recovery points yet for seedjob1\n");
}

TEST(Workflow, RestoreStagingRebuildsTheSources) {
  const std::string dir = vmb::testing::PerTestDir();
  const std::string staging = Staged(dir);
  Agent agent;
  Agent::Result r = agent.Run("restore-staging", {{"staging", staging}, {"output", dir + "/out"}});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("restored into ", dir, "/out\n"));
  EXPECT_EQ(*file::ReadFile(dir + "/out/0/f.txt"), "offline seeding");
  Agent::Result again = agent.Run("restore-staging", {{"staging", staging}, {"output", dir + "/out"}});
  EXPECT_EQ(again.exit, 1);
  EXPECT_THAT(again.err, HasSubstr("is not empty"));
}

// Initiate checks the publish settings before it asks the control plane or writes anything.
TEST(Workflow, InitiateWithoutPublishSettingsWritesNothing) {
  const std::string dir = vmb::testing::PerTestDir();
  Agent agent;
  Agent::Result r = agent.Run("initiate",
                              {{"staging", dir + "/staging"},
                               {"publish-settings", dir + "/missing.publishsettings"},
                               {"job-name", "seedjob1"},
                               {"subscription-id", "sub-123"},
                               {"storage-account", "acct"},
                               {"container", "offline"}},
                              false, {dir});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, StartsWith("seedagent: "));
  EXPECT_EQ(agent.requests(), 0);
  EXPECT_FALSE(file::ReadFile(dir + "/staging/offline-job.json").ok());
}

// initiate reads the offline application AddRegistryEntries registered for the account (scratch folder): one made
// for another subscription stops it before anything is written; none is a note naming the command to run.
TEST(Workflow, InitiateReadsTheRegisteredOfflineApplication) {
  const std::string dir = vmb::testing::PerTestDir();
  ASSERT_THAT(file::MakeDirs(dir + "/scratch"), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(dir + "/scratch/OfflineApplicationParams_acct.xml",
                                    "<OfflineApplicationParams><SubscriptionId>sub-other</SubscriptionId>"
                                    "<CertificateThumbprint>0123456789ABCDEF0123456789ABCDEF01234567"
                                    "</CertificateThumbprint><StorageAccountName>acct</StorageAccountName>"
                                    "</OfflineApplicationParams>",
                                    0644),
              IsOk());
  Flags opt{{"staging", dir + "/staging"},    {"publish-settings", dir + "/missing.publishsettings"},
            {"job-name", "seedjob1"},         {"subscription-id", "sub-123"},
            {"storage-account", "acct"},      {"container", "offline"},
            {"scratch-dir", dir + "/scratch"}};
  Agent agent;
  Agent::Result r = agent.Run("initiate", opt, false, {dir});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("registers the offline application of subscription sub-other, not sub-123"));
  EXPECT_FALSE(file::ReadFile(dir + "/staging/offline-job.json").ok());
  opt["storage-account"] = "acct2";
  r = agent.Run("initiate", opt, false, {dir});
  EXPECT_THAT(r.err, HasSubstr("note: no offline application registered for storage account acct2"));
  EXPECT_THAT(r.err, HasSubstr("certgen AddRegistryEntries SubscriptionId:sub-123"));
}

}  // namespace
}  // namespace vmb::offline
