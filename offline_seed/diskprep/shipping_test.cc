// diskprep u: against the control-plane simulator: the job found on the source computer when another computer
// prepared the drives (ship_target.h), a second run that corrects a detail (one request, refused by the job's state
// before anything is sent, the local record written only after the control plane accepted), and the seed's
// two-week rule on a FakeClock.
#include "offline_seed/diskprep/shipping.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/cli.h"
#include "offline_seed/diskprep/diskprep_testing.h"
#include "offline_seed/diskprep/job_submitter.h"
#include "offline_seed/diskprep/ship_target.h"
#include "offline_seed/diskprep/shipping_record.pb.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/testing/initiate_options.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/import_export/testing/control_plane_fixture.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// Counts the PATCHes (Jobs_Update) on their way to the simulator.
class CountingTransport : public http::HttpTransport {
 public:
  explicit CountingTransport(http::HttpTransport* inner) : inner_(inner) {}
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& r) override {
    if (r.method == "PATCH") ++patches;
    return inner_->Send(r);
  }
  int patches = 0;

 private:
  http::HttpTransport* inner_;
};

class ShippingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    auto plane = ie::testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_THAT(plane.status(), IsOk());
    plane_ = std::move(*plane);
    counting_ = std::make_unique<CountingTransport>(plane_->transport());
    ASSERT_THAT(ie::SimAdmin(plane_->transport(), plane_->url(), "tok")
                    .PutStorageAccount("sub-123", "offlinebackup", "seedacct", "westeurope")
                    .status(),
                IsOk());
    ASSERT_THAT(file::MakeDirs(dir_ + "/src"), IsOk());
    ASSERT_THAT(file::WriteFileAtomic(dir_ + "/src/a.txt", "hello", 0644), IsOk());
    staging_ = dir_ + "/staging";
    absl::StatusOr<proto::ImportJobRecord> staged =
        InitiateOfflineBackup(testing::TestInitiateOptions({dir_ + "/src"}, staging_));
    ASSERT_THAT(staged.status(), IsOk());
    staged_ = *staged;
    // `diskprep s:` (on any computer) creates the job for one prepared drive.
    PreparedDrive drive;
    drive.name = "d1";
    drive.drive_id = "SN-d1";
    drive.recovery_password = "002816-008470-014080-019712-025344-030976-036608-042240";
    drive.manifest_md5 = "109B21108597EF36D5785F08303F3638";
    drive.header_hash = "HEADER";
    ie::ArmImportJobClient client(plane_->transport(), plane_->url(), "tok");
    ASSERT_THAT(SubmitImportJob(client, staged_, "offlinebackup", {drive}).status(), IsOk());
  }

  ShippingOptions Options() {
    ShippingOptions o{staging_, plane_->url(), "tok", "offlinebackup", counting_.get()};
    o.clock = &clock_;
    return o;
  }

  ShippingDetails Details(const std::string& tracking, const std::string& ship_date = "2031-03-10") {
    return diskprep_testing::UtrechtShipping(tracking, ship_date);
  }

  ie::proto::Job JobNow() { return *ie::ArmImportJobClient(plane_->transport(), plane_->url(), "tok").GetJob(Ref()); }
  ie::JobRef Ref() { return {"sub-123", "offlinebackup", staged_.jobname()}; }

  void SetState(const std::string& state) {
    ASSERT_THAT(plane_->plane().Mutate([&](ie::proto::ServerState& st) {
      st.mutable_jobs(0)->mutable_properties()->set_state(state);
      return absl::OkStatus();
    }),
                IsOk());
  }

  proto::ShippingRecord Record(const std::string& path) {
    proto::ShippingRecord r;
    EXPECT_THAT(json::Parse(*file::ReadFile(path), &r, path), IsOk());
    return r;
  }

  std::string dir_, staging_;
  proto::ImportJobRecord staged_;
  std::unique_ptr<ie::testing::ControlPlaneFixture> plane_;
  std::unique_ptr<CountingTransport> counting_;
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2031, 3, 10, 15, 0, 0), absl::UTCTimeZone())};
};

// The source computer did not run s:, so it has no record of the job: the control plane's jobs of the publish
// settings' subscription that carry this computer's name (or the job named with --job) are found, and u: works
// there, its record going to the agent folder.
TEST_F(ShippingTest, TheSourceComputerFindsTheJobItWaitsFor) {
  ie::ArmImportJobClient client(plane_->transport(), plane_->url(), "tok");
  EXPECT_EQ(JobNow().tags().at(kSourceHostTag), ThisHost());
  absl::StatusOr<ie::JobRef> found = FindWaitingJob(client, {{"sub-123"}, "", ThisHost()});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->name, staged_.jobname());
  EXPECT_EQ(found->resource_group, "offlinebackup");
  EXPECT_EQ(FindWaitingJob(client, {{"sub-123"}, staged_.jobname(), "any"})->name, staged_.jobname());
  EXPECT_THAT(FindWaitingJob(client, {{"sub-123"}, "", "another-pc"}).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no import job prepared from this computer (another-pc) waits for its package in "
                                 "subscription sub-123; name it with --job NAME, or give s:<staging location>")));
  EXPECT_THAT(FindWaitingJob(client, {{"sub-123"}, "seedjob9", ""}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no import job seedjob9 in subscription sub-123")));

  ShippingOptions o = Options();
  o.staging.clear();
  o.job_name = found->name;
  o.subscription = found->subscription;
  o.record_dir = dir_ + "/agent";
  ASSERT_THAT(file::MakeDirs(o.record_dir), IsOk());
  absl::StatusOr<ShippingResult> r = RecordShipping(o, Details("JD0146000038"));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->details_path, dir_ + "/agent/shipping-seedjob1.json");
  EXPECT_EQ(Record(r->details_path).properties().deliverypackage().trackingnumber(), "JD0146000038");
  EXPECT_THAT(*JobStatusText(o), HasSubstr("import job seedjob1: Shipping"));
  // Once the datacenter has the package the job no longer waits: it is found by name only.
  SetState("Received");
  EXPECT_EQ(FindWaitingJob(client, {{"sub-123"}, "", ThisHost()}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(FindWaitingJob(client, {{"sub-123"}, "seedjob1", ""}).status(), IsOk());
}

// A second u: that corrects a typo: one request, and the local record equals what the control plane holds.
TEST_F(ShippingTest, ASecondRunCorrectsTheDetailsInOneRequest) {
  absl::StatusOr<ShippingResult> first = RecordShipping(Options(), Details("JD0146000038"));
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->job.properties().state(), "Shipping");
  EXPECT_EQ(counting_->patches, 1) << "details and the move to Shipping in one update";
  absl::StatusOr<ShippingResult> fixed = RecordShipping(Options(), Details("JD0146000039"));
  ASSERT_THAT(fixed.status(), IsOk()) << "was: InvalidStateTransition after the package had changed";
  EXPECT_EQ(counting_->patches, 2);
  EXPECT_EQ(fixed->job.properties().state(), "Shipping");
  EXPECT_EQ(JobNow().properties().deliverypackage().trackingnumber(), "JD0146000039");
  proto::ShippingRecord local = Record(staging_ + "/shipping.json");
  EXPECT_EQ(local.properties().deliverypackage().trackingnumber(), "JD0146000039");
  EXPECT_EQ(local.properties().state(), "Shipping");
  EXPECT_EQ(local.subscription(), "sub-123");
}

// The datacenter has the package: the correction is refused before anything is sent, naming the state and what
// to do; the control plane and the local record keep the first details.
TEST_F(ShippingTest, ACorrectionTheJobsStateForbidsIsRefusedBeforeSending) {
  ASSERT_THAT(RecordShipping(Options(), Details("JD0146000038")).status(), IsOk());
  const std::string before = *file::ReadFile(staging_ + "/shipping.json");
  for (const char* state : {"Received", "Transferring", "Completed", "Closed"}) {
    SetState(state);
    counting_->patches = 0;
    EXPECT_THAT(RecordShipping(Options(), Details("JD0146000039")),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr(absl::StrCat("import job seedjob1 is ", state,
                                                ": Azure takes shipping details only "
                                                "while a job is Creating or Shipping; "))))
        << state;
    EXPECT_EQ(counting_->patches, 0) << state;
    EXPECT_EQ(JobNow().properties().deliverypackage().trackingnumber(), "JD0146000038") << state;
    EXPECT_EQ(*file::ReadFile(staging_ + "/shipping.json"), before) << state;
  }
  // Bad details are refused before anything is sent too: no half-applied update, no record.
  SetState("Creating");
  ASSERT_EQ(std::remove((staging_ + "/shipping.json").c_str()), 0);
  counting_->patches = 0;
  ShippingDetails bad = Details("JD0146000040");
  bad.return_address.clear_email();
  EXPECT_THAT(RecordShipping(Options(), bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("email")));
  EXPECT_EQ(counting_->patches, 0);
  EXPECT_FALSE(file::ReadFile(staging_ + "/shipping.json").ok());
}

// The seed: the drives must reach the datacenter within two weeks of the details being entered with the tool. The
// clock is the tool's (a FakeClock here): a ship date more than two weeks either side of that moment is refused
// (2020-01-15 would be refused at the datacenter, 2099 escapes the rule); the record keeps the moment and the
// deadline, and a later correction keeps the first deadline.
TEST_F(ShippingTest, TheTwoWeekRuleCountsFromEnteringTheDetails) {
  auto [job, where] = *LoadJob(Options());
  for (const char* ok : {"2031-02-24", "2031-03-10", "2031-03-24"}) {
    EXPECT_THAT(CheckShippingDetails(Details("JD0146000038", ok), job, where, clock_.Now()), IsOk()) << ok;
  }
  for (const char* refused : {"2031-02-23", "2031-03-25", "2020-01-15", "2099-01-01"}) {
    EXPECT_THAT(RecordShipping(Options(), Details("JD0146000038", refused)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two weeks")))
        << refused;
  }
  EXPECT_EQ(counting_->patches, 0);
  absl::StatusOr<ShippingResult> r = RecordShipping(Options(), Details("JD0146000038", "2031-03-09"));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->arrive_by, absl::FromCivil(absl::CivilSecond(2031, 3, 24, 15, 0, 0), absl::UTCTimeZone()));
  proto::ShippingRecord local = Record(r->details_path);
  EXPECT_EQ(local.enteredat(), "2031-03-10T15:00:00Z");
  EXPECT_EQ(local.arriveby(), "2031-03-24T15:00:00Z");
  // Ten days later the ship date is corrected: the deadline stays two weeks after the first entry.
  clock_.Advance(absl::Hours(24 * 10));
  absl::StatusOr<ShippingResult> fixed = RecordShipping(Options(), Details("JD0146000038", "2031-03-11"));
  ASSERT_THAT(fixed.status(), IsOk());
  EXPECT_EQ(Record(fixed->details_path).arriveby(), "2031-03-24T15:00:00Z");
  EXPECT_EQ(fixed->arrive_by, r->arrive_by);
}

struct Outcome {
  int status;
  std::string out, err;
};

// diskprep's command line, on a computer whose agent folder is `agent_dir`.
Outcome Diskprep(const std::string& agent_dir, std::vector<std::string> args) {
  ::setenv("VMBACKUP_AGENT_DIR", agent_dir.c_str(), 1);
  args.insert(args.begin(), "diskprep");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int status = RunDiskPrep(static_cast<int>(argv.size()), argv.data(), {});
  std::string out = ::testing::internal::GetCapturedStdout();
  return {status, out, ::testing::internal::GetCapturedStderr()};
}

std::vector<std::string> Flags(const std::vector<std::string>& first, const std::string& url,
                               const std::string& tracking) {
  std::vector<std::string> args = first;
  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  for (const char* a : {"--control-plane",
                        url.c_str(),
                        "--token",
                        "tok",
                        "--carrier",
                        "DHL",
                        "--tracking-number",
                        tracking.c_str(),
                        "--ship-date",
                        today.c_str(),
                        "--drive-count",
                        "1",
                        "--contact",
                        "Backup Ops",
                        "--street",
                        "Main St 1",
                        "--city",
                        "Utrecht",
                        "--postal-code",
                        "3511",
                        "--country",
                        "Netherlands",
                        "--phone",
                        "+31 30 000 0000",
                        "--email",
                        "ops@example.com",
                        "--yes"}) {
    args.push_back(a);
  }
  return args;
}

// The computer that ran s: (its agent folder records the job): u: alone shows the job's status, as the seed's
// "monitor the import job" step runs it; --status shows the same.
TEST_F(ShippingTest, UAloneShowsTheJobsStatus) {
  const std::string copy = dir_ + "/copy-computer";
  ASSERT_THAT(file::MakeDirs(copy), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(copy + "/pending-import", staging_ + "\n", 0600), IsOk());
  Outcome status = Diskprep(copy, {"u:", "--status", "--control-plane", plane_->url(), "--token", "tok"});
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("import job seedjob1: Creating (0%)\n  drive SN-d1"));
  Outcome alone = Diskprep(copy, {"u:", "--control-plane", plane_->url(), "--token", "tok"});
  ASSERT_EQ(alone.status, 0) << alone.err;
  EXPECT_EQ(alone.out, status.out +
                           "To enter or correct the shipping details, run u: on a terminal or with "
                           "--carrier ... --yes (see --help).\n");
  EXPECT_EQ(alone.err, "");
  EXPECT_EQ(JobNow().properties().state(), "Creating") << "nothing sent";
}

// The source computer, where s: did not run: u: p:<file> finds the job in the file's subscription by this
// computer's name; a second u: corrects a detail; once the datacenter has the package, u: refuses before sending,
// saying the state and what to do, and the record stays as Azure has it.
TEST_F(ShippingTest, UOnTheSourceComputerWhenAnotherComputerPreparedTheDrives) {
  const std::string source = dir_ + "/source-computer";
  ASSERT_THAT(file::MakeDirs(source), IsOk());
  const std::string publish = dir_ + "/sub.publishsettings";
  ASSERT_THAT(file::WriteFileAtomic(publish,
                                    "<PublishData><PublishProfile SchemaVersion=\"2.0\"><Subscription "
                                    "Id=\"sub-123\" Name=\"Backup\"/></PublishProfile></PublishData>",
                                    0600),
              IsOk());
  Outcome r = Diskprep(source, Flags({"u:", "p:" + publish}, plane_->url(), "JD0146000038"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("job seedjob1 is now Shipping; the shipping details are saved in " + source +
                               "/shipping-seedjob1.json\nThe drives must reach the datacenter by "));
  r = Diskprep(source, Flags({"u:", "p:" + publish, "--job", "seedjob1"}, plane_->url(), "JD0146000039"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(JobNow().properties().deliverypackage().trackingnumber(), "JD0146000039");
  EXPECT_EQ(Record(source + "/shipping-seedjob1.json").properties().deliverypackage().trackingnumber(), "JD0146000039");
  SetState("Received");
  r = Diskprep(source, Flags({"u:", "p:" + publish, "--job", "seedjob1"}, plane_->url(), "JD0146000040"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "diskprep: import job seedjob1 is Received: Azure takes shipping details only while a job is "
            "Creating or Shipping; the datacenter has the package, so the details can no longer change; "
            "`diskprep u:` shows its progress. Nothing was changed\n");
  EXPECT_EQ(JobNow().properties().deliverypackage().trackingnumber(), "JD0146000039");
  EXPECT_EQ(Record(source + "/shipping-seedjob1.json").properties().deliverypackage().trackingnumber(), "JD0146000039");
  // Without p: this computer has no record of the job: u: says what to give.
  r = Diskprep(source, {"u:", "--control-plane", plane_->url(), "--token", "tok"});
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("no import job is recorded on this computer; on the source computer give the publish "
                               "settings file"));
}

}  // namespace
}  // namespace vmb::offline
