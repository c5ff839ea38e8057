// diskprep s:'s dialogue with a scripted admin and a fake PrepareDrives: which import job (one said, several asked,
// none or several without a terminal refused), which drive (unknown, unsuitable and taken ones refused with the
// reason and asked again), the formatting confirmed, another drive attached while data remains, a counterfeit drive
// reported by name and reason, and a resumed run taking its journaled drives again.
#include "offline_seed/diskprep/prepare_dialogue.h"

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep_testing.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/diskprep/scripted_prompter.h"
#include "offline_seed/journal/journal.h"

namespace vmb::offline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScriptedPrompter;
using ::vmb::testing::StatusIs;

class PrepareDialogueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    drives_.Add(diskprep_testing::UsableDrive("d1", 64u << 20));
    drives_.Add(diskprep_testing::UsableDrive("d2", 128u << 20));
    drives_.Add(diskprep_testing::UsableDrive("fake", 256u << 20));
    drives::proto::DriveInfo usb = diskprep_testing::UsableDrive("u1", 128u << 20);
    usb.set_interface("usb");
    drives_.Add(usb);
  }

  // A staging location at `path` for job `name` (offline-job.json only).
  void Stage(const std::string& path, const std::string& name) {
    ASSERT_TRUE(file::MakeDirs(path).ok());
    ASSERT_TRUE(file::WriteFileAtomic(path + "/offline-job.json",
                                      absl::StrCat("{\"jobName\": \"", name,
                                                   "\", \"sourceHost\": \"srv\", "
                                                   "\"createdAt\": \"2025-01-02T03:04:05Z\", \"stagedBytes\": "
                                                   "\"5000000\"}"),
                                      0600)
                    .ok());
  }

  // PrepareDrives as the dialogue calls it: records each call's drives; answers from `results` in order.
  Preparer Fake(std::vector<DiskPrepResult> results) {
    results_ = std::move(results);
    calls_.clear();
    return [this](const DiskPrepOptions& o) -> absl::StatusOr<DiskPrepResult> {
      EXPECT_TRUE(o.return_when_full);
      calls_.push_back(o.drives);
      if (calls_.size() > results_.size()) return absl::InternalError("called too often");
      return results_[calls_.size() - 1];
    };
  }

  DiskPrepOptions Options() {
    DiskPrepOptions o;
    o.staging = dir_ + "/staging";
    o.drive_source = &drives_;
    return o;
  }

  static DiskPrepResult Remaining(uint64_t bytes, std::vector<std::string> rejected = {}) {
    DiskPrepResult r;
    r.remaining_bytes = bytes;
    r.rejected = std::move(rejected);
    return r;
  }

  std::string dir_;
  diskprep_testing::MemoryDrives drives_;
  std::vector<DiskPrepResult> results_;
  std::vector<std::vector<std::string>> calls_;
};

TEST_F(PrepareDialogueTest, TheOnlyJobWaitingIsSaid) {
  Stage(dir_ + "/staging", "seedjob");
  ScriptedPrompter p({});
  absl::StatusOr<std::string> staging = ChooseImportJob(&p, dir_ + "/staging");
  ASSERT_TRUE(staging.ok()) << staging.status();
  EXPECT_EQ(*staging, dir_ + "/staging");
  EXPECT_EQ(p.transcript(), absl::StrCat("Azure import job: seedjob  (staging location ", dir_,
                                         "/staging, 5.0 MB "
                                         "staged on srv 2025-01-02T03:04:05Z)\n  the only one waiting at ",
                                         dir_, "/staging: its drives are prepared now.\n"));
}

TEST_F(PrepareDialogueTest, SeveralJobsWaitingAreAskedFor) {
  Stage(dir_ + "/share/a", "job-a");
  Stage(dir_ + "/share/b", "job-b");
  Stage(dir_ + "/share/c", "job-c");
  ASSERT_TRUE(file::WriteFileAtomic(dir_ + "/share/c/shipping.json", "{}", 0600).ok());  // shipped: not waiting
  ScriptedPrompter p({"3", "2"});
  absl::StatusOr<std::string> staging = ChooseImportJob(&p, dir_ + "/share");
  ASSERT_TRUE(staging.ok()) << staging.status();
  EXPECT_EQ(*staging, dir_ + "/share/b");
  EXPECT_THAT(p.transcript(), HasSubstr("Import jobs waiting at " + dir_ + "/share:\n  1. job-a  (staging location "));
  EXPECT_THAT(p.transcript(), HasSubstr("Which Azure import job are the drives you are preparing for? [1-2]: 3\n  "
                                        "\"3\" is not on the list: enter a number from 1 to 2\n"));
  EXPECT_THAT(ChooseImportJob(nullptr, dir_ + "/share"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat(dir_, "/share holds 2 import jobs waiting (job-a: s:", dir_,
                                    "/share/a, job-b: s:", dir_, "/share/b): name one with its s:")));
  EXPECT_THAT(ChooseImportJob(nullptr, dir_ + "/share/a"), ::vmb::testing::IsOk());
  EXPECT_THAT(ChooseImportJob(&p, dir_ + "/nothing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("is not a staging location")));
}

TEST_F(PrepareDialogueTest, AnUnsuitableDriveIsRefusedWithItsReasonAndAskedAgain) {
  ScriptedPrompter p({"sdz", "u1", "d2", "/dev/d1:"});
  absl::StatusOr<drives::proto::DriveInfo> d = AskDrive(p, drives_, {{"d2", "it is already part of this job"}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name(), "d1");
  const std::string& t = p.transcript();
  EXPECT_THAT(t, HasSubstr("Drives of this computer:\n  d1       Model d1                 serial SN-d1              "
                           "67.1 MB  2.5\" ssd sata3  usable\n"));
  EXPECT_THAT(t, HasSubstr("  d2       Model d2                 serial SN-d2             134.2 MB  2.5\" ssd sata3  "
                           "not usable: it is already part of this job\n"));
  const std::string q = "Enter the name of the drive to prepare for the transfer to Azure (as listed, without /dev/): ";
  EXPECT_THAT(t, HasSubstr(q + "sdz\n  no drive named sdz; the drives are: d1, d2, fake, u1\n"));
  EXPECT_THAT(t, HasSubstr(q + "u1\n  drive u1 (Model u1, serial SN-u1) cannot be used: its interface is usb; only "
                               "internal SATA II/III drives are accepted; choose another drive\n"));
  EXPECT_THAT(t, HasSubstr(q + "d2\n  drive d2 cannot be used: it is already part of this job; choose another "
                               "drive\n"));
}

TEST_F(PrepareDialogueTest, DrivesAreAddedWhileTheDataDoesNotFitAndACounterfeitIsNamed) {
  const std::string counterfeit =
      "fake: drive fake (serial SN-fake) is counterfeit: it holds at most 23.1 MB "
      "(23064576 bytes) of the 268.4 MB (268435456 bytes) it claims (what is written "
      "past that is lost); use another drive";
  DiskPrepResult done = Remaining(0);
  done.job.set_name("seedjob");
  ScriptedPrompter p({"d1", "yes", "Yes", "fake", "YES", "yes", "fake", "d2", "yes"});
  absl::StatusOr<DiskPrepResult> r =
      PrepareInteractively(p, Options(), Fake({Remaining(9'000'000), Remaining(9'000'000, {counterfeit}), done}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job.name(), "seedjob");
  EXPECT_EQ(p.unused(), 0u);
  EXPECT_THAT(calls_, ElementsAre(ElementsAre("d1"), ElementsAre("d1", "fake"), ElementsAre("d1", "d2")));
  const std::string& t = p.transcript();
  EXPECT_THAT(t, HasSubstr("Drive d1 (Model d1, serial SN-d1, 67.1 MB) will be formatted and everything on it is "
                           "lost. Format it? [yes/no]: yes\n"));
  EXPECT_THAT(t, HasSubstr("There is not enough space on the chosen drive(s) for the backup data: 9.0 MB remain.\n"
                           "Attach another drive, then continue with it? [yes/no]: Yes\n"));
  EXPECT_THAT(t, HasSubstr("\ndrive fake (serial SN-fake) is counterfeit: it holds at most 23.1 MB"));
  EXPECT_THAT(t, Not(HasSubstr("full")));
  EXPECT_THAT(t, HasSubstr("fake\n  drive fake cannot be used: it was rejected (see above); choose another drive\n"));
}

TEST_F(PrepareDialogueTest, DecliningTheFormatChangesNothing) {
  ScriptedPrompter p({"d1", "no"});
  EXPECT_THAT(PrepareInteractively(p, Options(), Fake({})),
              StatusIs(absl::StatusCode::kCancelled, "nothing was changed"));
  EXPECT_TRUE(calls_.empty());
}

TEST_F(PrepareDialogueTest, DecliningAnotherDriveStopsAndKeepsThePreparedOnes) {
  ScriptedPrompter p({"d1", "yes", "no"});
  EXPECT_THAT(PrepareInteractively(p, Options(), Fake({Remaining(9'000'000)})),
              StatusIs(absl::StatusCode::kCancelled,
                       "stopped: 9.0 MB of staged data remain. The prepared drives are kept: run the same command "
                       "again and attach another drive when asked"));
  ScriptedPrompter ended({"d1", "yes"});
  EXPECT_THAT(PrepareInteractively(ended, Options(), Fake({Remaining(9'000'000)})),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(PrepareDialogueTest, AResumedRunTakesItsJournaledDrivesAgain) {
  const std::string dir = dir_ + "/staging/diskprep";
  ASSERT_TRUE(file::MakeDirs(dir).ok());
  for (const char* step : {"formatted", "rejected"}) {
    auto journal = Journal::Open(dir + (std::string(step) == "formatted" ? "/d1.journal" : "/fake.journal"));
    ASSERT_TRUE(journal.ok());
    proto::DiskPrepRecord rec;
    rec.set_step(step);
    ASSERT_TRUE(AppendRecord(**journal, rec).ok());
  }
  EXPECT_THAT(JournaledDrives(dir_ + "/staging"), ElementsAre("d1"));
  ScriptedPrompter p({});
  ASSERT_TRUE(PrepareInteractively(p, Options(), Fake({Remaining(0)})).ok());
  EXPECT_THAT(calls_, ElementsAre(ElementsAre("d1")));
  EXPECT_EQ(p.transcript(),
            "Continuing with the drives of an earlier run: d1 (resumed from their journals, not "
            "formatted again).\n");
}

}  // namespace
}  // namespace vmb::offline
