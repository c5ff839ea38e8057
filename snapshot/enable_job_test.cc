// The enable flow against the in-memory blob fake: outcomes, codes, files, and what must never happen.
#include "snapshot/enable_job.h"

#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/testing/fake_blob_service.h"
#include "common/crypto/certificate.h"
#include "common/crypto/cms.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/http/fault_transport.h"
#include "common/json/json.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/error_codes.h"
#include "snapshot/proto/handler.pb.h"
#include "snapshot/settings.h"
#include "snapshot/status_report.h"
#include "snapshot/testing/enable_job_fixture.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(EnableJobTest, SnapshotsEveryDiskAndReportsEverywhere) {
  WriteSettings(0, Disks(3));
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.snapshots_taken, 3);
  EXPECT_EQ(freeze_.freezes, 1);
  EXPECT_EQ(freeze_.thaws, 1);
  // Snapshot calls carry the public backupMetadata. The two reports (transitioning, then the outcome) ask each
  // report blob what it is once a job, not once a report.
  int report_blob_questions = 0;
  for (const auto& req : fake_.requests()) {
    if (absl::StrContains(req.url, "comp=snapshot")) {
      EXPECT_EQ(req.Header("x-ms-meta-backupJob"), "nightly");
    }
    report_blob_questions += req.method == "HEAD" &&
                             (absl::StrContains(req.url, "vm.Status.txt") || absl::StrContains(req.url, "vm.Logs.txt"));
  }
  EXPECT_EQ(report_blob_questions, 2);
  EXPECT_EQ(StatusFile(0).status().status(), "success");
  EXPECT_EQ(StatusFile(0).status().name(), "Microsoft.Azure.RecoveryServices.VMSnapshotLinux");
  EXPECT_EQ(StatusFile(0).status().snapshotinfo_size(), 0) << "the agent does not forward it: it is in substatus";
  proto::StatusDocument doc = HostStatus(0);
  EXPECT_EQ(doc.status().status(), "success");
  EXPECT_EQ(doc.status().code(), 0);
  EXPECT_EQ(doc.status().name(), "Microsoft.Azure.RecoveryServices.VMSnapshotLinux");
  EXPECT_EQ(doc.version(), kExtensionVersion);
  EXPECT_EQ(doc.status().formattedmessage().lang(), "de-DE");
  EXPECT_THAT(doc.status().formattedmessage().message(), HasSubstr("Anwendungskonsistente"));
  EXPECT_THAT(doc.status().formattedmessage().message(), HasSubstr("\"snapshotConsistency\":1"));
  ASSERT_EQ(doc.status().snapshotinfo_size(), 3);
  for (const auto& info : doc.status().snapshotinfo()) {
    EXPECT_TRUE(info.issuccessful());
    EXPECT_THAT(info.snapshoturi(), HasSubstr("?snapshot=2026"));
    EXPECT_THAT(info.bloburi(), Not(HasSubstr("sig=")));
  }
  EXPECT_THAT(StatusFile(0).timestamputc(), ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  EXPECT_THAT(doc.timestamputc(), ::testing::MatchesRegex("/Date\\([0-9]+\\)/"));
  // Status blob: same document, .NET date form.
  std::string status_blob = Blob("logs", "vm.Status.txt");
  EXPECT_THAT(status_blob, HasSubstr(R"("timestampUTC":"\/Date()"));
  EXPECT_THAT(status_blob, HasSubstr(R"("status":"success")"));
  // Logs: file and blob, secrets redacted.
  std::string log_file = *file::ReadFile(dir_ + "/log/extension.log");
  EXPECT_THAT(log_file, HasSubstr("freeze-to-thaw window"));
  EXPECT_THAT(log_file, Not(HasSubstr("SECRETSIG")));
  EXPECT_THAT(Blob("logs", "vm.Logs.txt"), HasSubstr("job ends with code 0"));
  EXPECT_THAT(status_blob, Not(HasSubstr("SECRETSIG")));
  // The settings file no longer holds the protected part, and is 0600.
  std::string settings = *file::ReadFile(dir_ + "/config/0.settings");
  EXPECT_THAT(settings, Not(HasSubstr("protectedSettings\":\"M")));
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/config/0.settings").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Without a logsBlobUri the job runs (as the real extension does: it uploads no log) and says where the log is.
TEST_F(EnableJobTest, NoLogsBlobUriStillSnapshotsAndSaysWhereTheLogIs) {
  with_logs_blob_ = false;
  WriteSettings(0, Disks(1));
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
  EXPECT_EQ(r.snapshots_taken, 1);
  EXPECT_THAT(*file::ReadFile(dir_ + "/log/extension.log"),
              HasSubstr("settings 0 carry no logsBlobUri: this log is not uploaded; it stays in " + dir_ +
                        "/log/extension.log"));
  EXPECT_EQ(Blob("logs", "vm.Logs.txt"), "<missing>");
  EXPECT_THAT(Blob("logs", "vm.Status.txt"), HasSubstr("success")) << "the status blob is written as ever";
}

TEST_F(EnableJobTest, SameSequenceOrTaskIsProcessedOnce) {
  WriteSettings(0, Disks(2));
  ASSERT_EQ(RunEnable(options_).code, kSuccessAppConsistent);
  int calls = SnapshotCalls();
  EnableResult again = RunEnable(options_);
  EXPECT_EQ(again.code, kAlreadyProcessed);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(StatusFile(0).status().code(), 0) << "the first run's status must be kept";
  WriteSettings(1, Disks(2), "task-1");
  EnableResult same_task = RunEnable(options_);
  EXPECT_EQ(same_task.code, kAlreadyProcessed);
  EXPECT_EQ(StatusFile(1).status().code(), kAlreadyProcessed);
  EXPECT_EQ(SnapshotCalls(), calls) << "no new snapshot for a repeat";
}

TEST_F(EnableJobTest, BadCommandIsCode11WithNoFreezeAndNoSnapshot) {
  WriteSettings(0, Disks(1), "t", "restore");
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kBadParameter);
  EXPECT_EQ(r.exit_code, 0) << "the outcome is in the status file, as the real extension reports it";
  EXPECT_EQ(freeze_.freezes, 0);
  EXPECT_EQ(SnapshotCalls(), 0);
  EXPECT_EQ(StatusFile(0).status().status(), "error");
  EXPECT_EQ(HostStatus(0).status().status(), "error");
  EXPECT_THAT(Blob("logs", "vm.Status.txt"), HasSubstr("restore"));
}

TEST_F(EnableJobTest, LateCommandIsRefusedBeforeAndAfterTheFreeze) {
  WriteSettings(0, Disks(1), "late", "snapshot", TimeToTicks(absl::Now() - absl::Minutes(141)));
  EXPECT_EQ(RunEnable(options_).code, kCommandTooLate);
  EXPECT_EQ(freeze_.freezes, 0);
  // Just in time before the freeze, late after it (a slow freeze): thaw and fail.
  FakeClock clock(absl::Now());
  options_.clock = &clock;
  freeze_.on_freeze = [&] { clock.Advance(absl::Minutes(5)); };
  WriteSettings(1, Disks(1), "late2", "snapshot", TimeToTicks(absl::Now() - absl::Minutes(138)));
  options_.seq = 1;
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kCommandTooLate);
  EXPECT_THAT(r.message, HasSubstr("after the freeze"));
  EXPECT_EQ(freeze_.thaws, freeze_.freezes);
  EXPECT_EQ(SnapshotCalls(), 0);
}

TEST_F(EnableJobTest, PartialFailuresAreReportedPerDisk) {
  std::vector<std::string> disks = Disks(2);
  disks.push_back(Uri("vhds", "expired.vhd", "sv=2021-08-06&se=2001-01-01T00%3A00%3A00Z&sr=b&sp=rw&sig=OLDSIG"));
  disks.push_back(Uri("vhds", "missing.vhd"));
  WriteSettings(0, disks);
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSnapshotFailedSome);
  EXPECT_EQ(r.snapshots_taken, 2);
  proto::StatusDocument doc = HostStatus(0);
  int failed = 0;
  for (const auto& info : doc.status().snapshotinfo()) {
    if (!info.issuccessful()) {
      ++failed;
      EXPECT_THAT(info.errormessage(), ::testing::AnyOf(HasSubstr("expired at 2001"), HasSubstr("BlobNotFound")));
      EXPECT_THAT(info.errormessage(), Not(HasSubstr("OLDSIG")));
    }
  }
  EXPECT_EQ(failed, 2);
}

TEST_F(EnableJobTest, ThrottlingIsRetriedInsideTheFreeze) {
  WriteSettings(0, Disks(1));
  options_.freeze = &freeze_;
  freeze_.on_freeze = [&] { fake_.FailNext(2, 503, "ServerBusy"); };
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
}

TEST_F(EnableJobTest, FreezeFailureThawsAndTakesNoSnapshot) {
  WriteSettings(0, Disks(2));
  freeze_.freeze_result = WithCode(absl::InternalError("FIFREEZE: Device or resource busy"), kFreezeFailed);
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kFreezeFailed);
  EXPECT_EQ(freeze_.thaws, 1);
  EXPECT_EQ(SnapshotCalls(), 0);
}

TEST_F(EnableJobTest, StatusBlobThatRefusesWritesDoesNotLoseTheOutcome) {
  WriteSettings(0, Disks(1), "t", "snapshot", 0, Uri("nocontainer", "vm.Status.txt"));
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent);
  proto::StatusDocument doc = HostStatus(0);
  EXPECT_EQ(doc.status().status(), "success");
  bool noted = false;
  for (const auto& kv : doc.status().telemetrydata()) noted |= kv.key() == "statusBlobUploadError";
  EXPECT_TRUE(noted);
  // The logs blob (uploaded beside the status blob) went up again afterwards, so it tells of the failure.
  EXPECT_THAT(Blob("logs", "vm.Logs.txt"), HasSubstr("cannot write the status blob"));
}

TEST_F(EnableJobTest, AFailingStatusBlobCannotPushTheJobPastItsDeadline) {
  WriteSettings(0, Disks(1));
  FakeClock clock(absl::Now());
  options_.clock = &clock;
  options_.deadline = absl::Seconds(20);
  freeze_.on_thaw = [&] { fake_.FailNext(100000, 503, "ServerBusy"); };  // storage fails right after the snapshot
  absl::Time start = clock.Now();
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
  EXPECT_LE(clock.Now() - start, absl::Seconds(21)) << "the reports must share the job's remaining time";
  proto::StatusDocument doc = HostStatus(0);
  bool noted = false;
  for (const auto& kv : doc.status().telemetrydata()) noted |= kv.key() == "statusBlobUploadError";
  EXPECT_TRUE(noted);
  fake_.FailNext(0, 0, "");
}

TEST_F(EnableJobTest, PageBlobStatusIsWrittenAsPages) {
  blob::BlobClient admin(&fake_, *blob::SharedKeyCredential::Create("devstoreaccount1", "a2V5"));
  ASSERT_TRUE(admin.CreatePageBlob(account_.WithContainer("logs").WithBlob("page.Status.txt"), 64 * 1024).ok());
  WriteSettings(0, Disks(1), "t", "snapshot", 0, Uri("logs", "page.Status.txt"));
  ASSERT_EQ(RunEnable(options_).code, kSuccessAppConsistent);
  std::string content = Blob("logs", "page.Status.txt");
  EXPECT_EQ(content.size(), 64u * 1024);
  EXPECT_EQ(content[0], '[');
  EXPECT_THAT(content.substr(0, content.find('\0')), HasSubstr("\"status\":\"success\""));
}

// For ARM VMs the real extension (VMBackup HandlerUtil.do_status_report) reports a terminal outcome as "success" at
// the top of the status file, so the agent does not mark the handler failed; the outcome reaches the host in
// substatus[0].
TEST_F(EnableJobTest, ArmVmsReportTheOutcomeInSubstatusOnly) {
  WriteSettings(0, Disks(1), "t", "restore");
  proto::SettingsFile s;
  std::string path = absl::StrCat(dir_, "/config/0.settings");
  ASSERT_TRUE(json::Parse(*file::ReadFile(path), &s, "settings").ok());
  s.mutable_runtimesettings(0)->mutable_handlersettings()->mutable_publicsettings()->set_vmtype(
      "Microsoft.Compute/virtualMachines");
  ASSERT_TRUE(file::WriteFileAtomic(path, json::ToJson(s), 0600).ok());
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kBadParameter);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(StatusFile(0).status().status(), "success");
  EXPECT_EQ(StatusFile(0).status().code(), kBadParameter);
  EXPECT_EQ(HostStatus(0).status().status(), "error");
  EXPECT_EQ(HostStatus(0).status().code(), kBadParameter);
}

// Bad handler environments: a clear code-11 error, exit 1 (there is no status folder to report in), no snapshot.
TEST_F(EnableJobTest, MalformedHandlerEnvironmentsAreCode11AndNeverSnapshot) {
  WriteSettings(0, Disks(1));
  const std::string folders =
      absl::StrCat(R"("handlerEnvironment": {"logFolder": ")", dir_, R"(/log", "configFolder": ")", dir_,
                   R"(/config", "statusFolder": ")", dir_, R"(/status"})");
  struct Case {
    std::string text, message;
  } cases[] = {
      {"[]", "exactly one handler entry, found 0"},
      {absl::StrCat("[{", folders, "}, {", folders, "}]"), "exactly one handler entry, found 2"},
      {R"([{"name": "x", "handlerEnvironment": {"logFolder": "/tmp"}}])", "configFolder is missing"},
      {R"(["text"])", "not valid JSON"},
      {R"({"name": "x"})", "must be a JSON array"},
      {"", "must be a JSON array"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(file::WriteFileAtomic(dir_ + "/HandlerEnvironment.json", c.text, 0644).ok());
    EnableResult r = RunEnable(options_);
    EXPECT_EQ(r.code, kBadParameter) << c.text;
    EXPECT_NE(r.exit_code, 0) << c.text;
    EXPECT_THAT(r.message, HasSubstr(c.message)) << c.text;
  }
  EXPECT_EQ(freeze_.freezes, 0);
  EXPECT_EQ(SnapshotCalls(), 0);
}

// The agent's own empty settings (no settings for the handler) and a sequence number with no settings file: a
// documented code in the status file, no freeze, no snapshot.
TEST_F(EnableJobTest, EmptyOrMissingSettingsAreReportedWithoutASnapshot) {
  ASSERT_TRUE(file::WriteFileAtomic(
                  dir_ + "/config/0.settings",
                  R"({"runtimeSettings": [{"handlerSettings": {"publicSettings": null, "protectedSettings": null, )"
                  R"("protectedSettingsCertThumbprint": null}}]})",
                  0600)
                  .ok());
  options_.seq = 0;
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kBadParameter);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.message, HasSubstr("holds no settings"));
  EXPECT_EQ(HostStatus(0).status().code(), kBadParameter);
  options_.seq = 7;
  r = RunEnable(options_);
  EXPECT_EQ(r.code, kBadParameter);
  EXPECT_THAT(r.message, HasSubstr("7.settings"));
  EXPECT_EQ(HostStatus(7).status().code(), kBadParameter);
  EXPECT_EQ(freeze_.freezes, 0);
  EXPECT_EQ(SnapshotCalls(), 0);
  // The real job then arrives under sequence number 0: it is not "already processed".
  WriteSettings(0, Disks(1), "task-after-empty");
  options_.seq = 0;
  r = RunEnable(options_);
  EXPECT_EQ(r.code, kSuccessAppConsistent) << r.message;
  EXPECT_EQ(SnapshotCalls(), 1);
}

TEST_F(EnableJobTest, MissingHandlerEnvironmentIsAClearError) {
  options_.handler_environment = dir_ + "/nope.json";
  EnableResult r = RunEnable(options_);
  EXPECT_EQ(r.code, kBadParameter);
  EXPECT_THAT(r.message, HasSubstr("--handler-environment"));
  EXPECT_NE(r.exit_code, 0);
}

// 200 backup jobs through a transport that injects connection resets (before and after the service acted), 503
// storms with and without Retry-After, 500s, 409 SnapshotOperationRateExceeded, 403s and truncated bodies. Every job
// must end in success or a documented failure code, thaw what it froze, and write the same code to its status
// file; a job reporting success must have a new snapshot of every disk (never a wrong success). Time is a fake
// clock, so retries and backoffs cost nothing.
TEST_F(EnableJobTest, SoakUnderInjectedFaults) {
  const uint64_t seed = 20261122;
  http::FaultTransport faulty(&fake_, http::FaultPlan{seed});
  FakeClock clock(absl::Now());
  options_.transport = &faulty;
  options_.clock = &clock;
  blob::BlobClient admin(&fake_, *blob::SharedKeyCredential::Create("devstoreaccount1", "a2V5"));
  auto snapshots_of = [&](int disk) {
    blob::ListOptions lo;
    lo.prefix = absl::StrCat("d", disk, ".vhd");
    lo.include_snapshots = true;
    int n = 0;
    for (const auto& item :
         admin.ListBlobs(account_.WithContainer("vhds"), lo).value_or(std::vector<blob::BlobItem>{})) {
      n += !item.snapshot.empty();
    }
    return n;
  };
  const std::set<int> documented = {kSuccessAppConsistent, kSuccess,           kError,
                                    kHttpFailure,          kSnapshotFailedAll, kSnapshotFailedSome,
                                    kSnapshotRateExceeded, kFreezeTimeout};
  std::map<int, int> outcomes;
  for (int job = 0; job < 200; ++job) {
    clock.Advance(absl::Minutes(1));
    WriteSettings(job, Disks(3), absl::StrCat("task-", job), "snapshot", TimeToTicks(clock.Now()));
    options_.seq = job;
    std::vector<int> before = {snapshots_of(0), snapshots_of(1), snapshots_of(2)};
    int freezes = freeze_.freezes, thaws = freeze_.thaws;
    EnableResult r = RunEnable(options_);
    ++outcomes[r.code];
    EXPECT_TRUE(documented.count(r.code)) << "job " << job << ": undocumented code " << r.code << " " << r.message;
    EXPECT_EQ(freeze_.freezes - freezes, freeze_.thaws - thaws) << "job " << job << " left a freeze behind";
    EXPECT_EQ(StatusFile(job).status().code(), r.code) << "job " << job;
    if (r.code == kSuccessAppConsistent || r.code == kSuccess) {
      for (int d = 0; d < 3; ++d) {
        EXPECT_GT(snapshots_of(d), before[d]) << "job " << job << " reported success without a snapshot of disk " << d;
      }
    }
  }
  std::string summary = absl::StrCat("seed ", seed, "; outcomes:");
  for (const auto& [code, n] : outcomes) absl::StrAppend(&summary, " code ", code, " x", n);
  absl::StrAppend(&summary, "; faults injected:");
  int total = 0;
  for (const auto& [kind, n] : faulty.injected()) {
    absl::StrAppend(&summary, " ", kind, " x", n);
    total += n;
  }
  std::printf("%s\n", summary.c_str());
  EXPECT_GT(total, 100);                            // the faults were really there
  EXPECT_GT(outcomes[kSuccessAppConsistent], 100);  // and most jobs recovered from them
}

}  // namespace
}  // namespace vmb::snapshot
