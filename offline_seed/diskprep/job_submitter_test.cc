// The job submitter on its own, against an import job service in memory: a new job with every drive, the job of an
// earlier run adopted, another server's job of the same name refused, more than 10 drives refused, and the service's
// errors passed on; and the check before any drive is formatted (CheckExistingJob).
#include "offline_seed/diskprep/job_submitter.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"

namespace vmb::offline {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// Jobs by name, one storage account ("seedacct" in resource group "offlinebackup"), one location.
class FakeService : public ie::ImportJobService {
 public:
  absl::StatusOr<ie::proto::Job> CreateJob(const ie::JobRef& ref, const ie::proto::Job& job) override {
    ++creates;
    ie::proto::Job made = job;
    made.set_name(ref.name);
    made.mutable_properties()->set_state("Creating");
    jobs[ref.name] = made;
    return made;
  }
  absl::StatusOr<ie::proto::Job> GetJob(const ie::JobRef& ref) override {
    if (!get_error.ok()) return get_error;
    if (!jobs.count(ref.name)) return absl::NotFoundError("ResourceNotFound");
    return jobs[ref.name];
  }
  absl::StatusOr<ie::proto::Job> UpdateJob(const ie::JobRef&, const ie::proto::UpdateJobParameters&) override {
    return absl::UnimplementedError("UpdateJob");
  }
  absl::StatusOr<std::vector<ie::proto::Job>> ListJobs(const std::string&) override {
    return absl::UnimplementedError("ListJobs");
  }
  absl::StatusOr<std::vector<ie::proto::DriveBitLockerKey>> ListBitLockerKeys(const ie::JobRef&) override {
    return absl::UnimplementedError("ListBitLockerKeys");
  }
  absl::StatusOr<ie::proto::Location> GetLocation(const std::string& location) override {
    ie::proto::Location l;
    l.set_name(location);
    l.mutable_properties()->set_city("Amsterdam");
    return l;
  }
  absl::StatusOr<ie::proto::StorageAccount> GetStorageAccount(const std::string& subscription,
                                                              const std::string& resource_group,
                                                              const std::string& name) override {
    if (resource_group != "offlinebackup" || name != "seedacct") return absl::NotFoundError("StorageAccountNotFound");
    ie::proto::StorageAccount a;
    a.set_id(absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", resource_group,
                          "/providers/Microsoft.Storage/storageAccounts/", name));
    a.set_location("westeurope");
    return a;
  }

  std::map<std::string, ie::proto::Job> jobs;
  int creates = 0;
  absl::Status get_error;
};

proto::ImportJobRecord Staged() {
  proto::ImportJobRecord staged;
  staged.set_jobname("seedjob1");
  staged.set_subscriptionid("sub-123");
  staged.set_storageaccount("seedacct");
  staged.set_sourcehost("source-pc");
  staged.set_itemid("item-42");
  return staged;
}

std::vector<PreparedDrive> Drives(int n) {
  std::vector<PreparedDrive> out;
  for (int i = 0; i < n; ++i) {
    PreparedDrive d;
    d.name = absl::StrCat("d", i);
    d.drive_id = absl::StrCat("SN-d", i);
    d.header_hash = absl::StrCat("HEADER", i);
    d.recovery_password = absl::StrCat("PASSWORD", i);
    d.manifest_md5 = absl::StrCat("MD5", i);
    out.push_back(d);
  }
  return out;
}

TEST(SubmitImportJob, CreatesTheJobWithEveryDrive) {
  FakeService service;
  absl::StatusOr<SubmittedJob> s = SubmitImportJob(service, Staged(), "offlinebackup", Drives(2));
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(service.creates, 1);
  EXPECT_EQ(s->location.properties().city(), "Amsterdam");
  const ie::proto::Job& job = service.jobs.at("seedjob1");
  EXPECT_EQ(s->job.name(), "seedjob1");
  EXPECT_EQ(job.location(), "westeurope");
  EXPECT_EQ(job.tags().at(kItemTag), "item-42");
  EXPECT_EQ(job.tags().at(kSourceHostTag), "source-pc") << "so u: on the source computer finds it";
  const auto& p = job.properties();
  EXPECT_EQ(p.storageaccountid(),
            "/subscriptions/sub-123/resourceGroups/offlinebackup/providers/Microsoft.Storage/"
            "storageAccounts/seedacct");
  EXPECT_EQ(p.jobtype(), "Import");
  EXPECT_TRUE(p.backupdrivemanifest());
  EXPECT_EQ(p.diagnosticspath(), "waimportexport");
  EXPECT_EQ(p.loglevel(), "Verbose");
  ASSERT_EQ(p.drivelist_size(), 2);
  EXPECT_EQ(p.drivelist(1).driveid(), "SN-d1");
  EXPECT_EQ(p.drivelist(1).bitlockerkey(), "PASSWORD1");
  EXPECT_EQ(p.drivelist(1).manifestfile(), "\\DriveManifest.xml");
  EXPECT_EQ(p.drivelist(1).manifesthash(), "MD51");
  EXPECT_EQ(p.drivelist(1).driveheaderhash(), "HEADER1");
}

TEST(SubmitImportJob, AdoptsTheJobAnEarlierRunCreated) {
  FakeService service;
  ASSERT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(2)), IsOk());
  service.jobs["seedjob1"].mutable_properties()->set_state("Shipping");
  absl::StatusOr<SubmittedJob> again = SubmitImportJob(service, Staged(), "offlinebackup", Drives(2));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(service.creates, 1) << "not created again";
  EXPECT_EQ(again->job.properties().state(), "Shipping") << "as the service has it";
  EXPECT_EQ(again->location.name(), "westeurope");
}

TEST(SubmitImportJob, AnotherServersJobOfTheSameNameIsRefused) {
  FakeService service;
  ie::proto::Job other;
  other.set_name("seedjob1");
  service.jobs["seedjob1"] = other;  // no item tag
  EXPECT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(1)),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("the import job seedjob1 already exists in subscription sub-123 and was not prepared "
                                 "from this staging location")));
  (*other.mutable_tags())[kItemTag] = "item-7";
  service.jobs["seedjob1"] = other;
  EXPECT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(1)),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("Stage the backup again with a new job name")));
  EXPECT_EQ(service.creates, 0);
}

TEST(SubmitImportJob, TakesAtMostTenDrives) {
  FakeService service;
  EXPECT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(11)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "an import job takes at most 10 drives"));
  EXPECT_EQ(service.creates, 0);
  EXPECT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(10)), IsOk());
}

TEST(SubmitImportJob, TheServicesErrorsArePassedOn) {
  FakeService service;
  EXPECT_THAT(SubmitImportJob(service, Staged(), "elsewhere", Drives(1)),
              StatusIs(absl::StatusCode::kNotFound, "StorageAccountNotFound"));
  EXPECT_EQ(service.creates, 0);
}

TEST(CheckExistingJob, NoJobYetOrTheJobsOwnDrivesPass) {
  FakeService service;
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d0", "SN-d0"}, {"new", ""}}), IsOk())
      << "no job: it is created after the drives are verified";
  ASSERT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(2)), IsOk());
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d1", "SN-d1"}, {"d0", "SN-d0"}}), IsOk())
      << "a resumed run of the same drives";
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d1", "SN-d1"}}), IsOk());
}

TEST(CheckExistingJob, ADriveTheJobDoesNotListIsRefusedNamingTheWayOut) {
  FakeService service;
  ASSERT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(2)), IsOk());
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d0", "SN-d0"}, {"spare", "SN-X"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("the import job seedjob1 was already created from this staging location (state "
                                       "Creating) and its drives SN-d0, SN-d1 hold all the staged data; drive spare "
                                       "(SN-X) is not in it and nothing was written to it"),
                             HasSubstr("`diskprep u: --cancel`"), HasSubstr("new job name"))));
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"noserial", ""}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("drive noserial is not in it")));
}

TEST(CheckExistingJob, AnotherServersOrACancelledJobIsRefused) {
  FakeService service;
  ie::proto::Job other;
  (*other.mutable_tags())[kItemTag] = "item-7";
  service.jobs["seedjob1"] = other;
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d0", "SN-d0"}}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("another server uses that name); no drive was formatted. Stage the backup again "
                                 "with a new job name")));
  ASSERT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(1)).status(),
              StatusIs(absl::StatusCode::kAlreadyExists));
  service.jobs.clear();
  ASSERT_THAT(SubmitImportJob(service, Staged(), "offlinebackup", Drives(1)), IsOk());
  service.jobs["seedjob1"].mutable_properties()->set_cancelrequested(true);
  service.jobs["seedjob1"].mutable_properties()->set_state("Closed");
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d0", "SN-d0"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "the import job seedjob1 of this staging location was cancelled (state Closed); no drive was "
                       "formatted. Stage the backup again with a new job name"));
}

TEST(CheckExistingJob, OtherErrorsOfTheServiceArePassedOn) {
  FakeService service;
  service.get_error = absl::UnauthenticatedError("InvalidAuthenticationToken");
  EXPECT_THAT(CheckExistingJob(service, Staged(), "offlinebackup", {{"d0", "SN-d0"}}),
              StatusIs(absl::StatusCode::kUnauthenticated, "InvalidAuthenticationToken"));
}

}  // namespace
}  // namespace vmb::offline
