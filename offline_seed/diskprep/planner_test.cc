// The planner on its own: staged images cut into ranges, journals replayed into drive states, the Ledger's queue
// and accounting (also with drives taking ranges from several threads), and the checks on the chosen drives.
#include "offline_seed/diskprep/planner.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep_testing.h"
#include "offline_seed/manifest/drive_manifest.h"

namespace vmb::offline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

proto::ImportJobRecord Job() {
  proto::ImportJobRecord job;
  job.set_container("offline");
  job.set_jobname("job1");
  return job;
}

proto::DiskPrepRecord Step(const std::string& step) {
  proto::DiskPrepRecord r;
  r.set_step(step);
  return r;
}

proto::DiskPrepRecord RangeRecord(const std::string& blob, uint64_t offset, uint64_t length, uint64_t at) {
  proto::DiskPrepRecord r = Step("range");
  r.set_blob(blob);
  r.set_offset(offset);
  r.set_length(length);
  r.set_md5("00");
  r.set_volumeoffset(at);
  return r;
}

TEST(PlanRanges, EveryImageByNameInRangesOfAtMost4MiB) {
  const std::string staging = vmb::testing::PerTestDir();
  diskprep_testing::StageImage(staging, "image-0001.vhd", std::string((5u << 20) + 100, 'b'));
  diskprep_testing::StageImage(staging, "image-0000.vhd", std::string(4u << 20, 'a'));
  diskprep_testing::StageImage(staging, "notes.txt", "not an image");
  absl::StatusOr<std::vector<StagedRange>> plan = PlanRanges(staging, Job());
  ASSERT_THAT(plan, IsOk());
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].blob, "offline/job1/image-0000.vhd");
  EXPECT_EQ((*plan)[0].image_path, staging + "/images/image-0000.vhd");
  EXPECT_EQ((*plan)[0].offset, 0u);
  EXPECT_EQ((*plan)[0].length, manifest::kMaxRange);
  EXPECT_EQ((*plan)[1].blob, "offline/job1/image-0001.vhd");
  EXPECT_EQ((*plan)[1].blob_length, (5u << 20) + 100);
  EXPECT_EQ((*plan)[1].length, manifest::kMaxRange);
  EXPECT_EQ((*plan)[2].offset, manifest::kMaxRange);
  EXPECT_EQ((*plan)[2].length, (1u << 20) + 100);
}

TEST(PlanRanges, AStagingLocationWithoutImagesIsIncomplete) {
  EXPECT_THAT(PlanRanges(vmb::testing::PerTestDir(), Job()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/images is missing")));
}

TEST(ReplayJournal, ANewDriveIsNeitherFormattedNorVerified) {
  DriveState d;
  ReplayJournal({}, d);
  EXPECT_EQ(d.prepared.drive_id, "");
  EXPECT_FALSE(d.verified);
  EXPECT_EQ(d.next_offset, kManifestArea);
  EXPECT_TRUE(d.ranges.empty());
}

TEST(ReplayJournal, RangesSayWhereTheNextOneGoes) {
  DriveState d;
  proto::DiskPrepRecord formatted = Step("formatted");
  formatted.set_driveid("SN-d1");
  ReplayJournal({formatted, RangeRecord("b", 0, 4u << 20, kManifestArea),
                 RangeRecord("b", 4u << 20, 100, kManifestArea + (4u << 20))},
                d);
  EXPECT_EQ(d.prepared.drive_id, "SN-d1");
  ASSERT_EQ(d.ranges.size(), 2u);
  EXPECT_EQ(d.next_offset, kManifestArea + (4u << 20) + 4096);
  EXPECT_FALSE(d.verified);
  EXPECT_FALSE(d.full);
}

TEST(ReplayJournal, VerifiedUntilARangeIsAddedAfterIt) {
  proto::DiskPrepRecord manifest = Step("manifest");
  manifest.set_manifestmd5("MD5");
  std::vector<proto::DiskPrepRecord> records = {Step("formatted"), RangeRecord("b", 0, 4096, kManifestArea),
                                                Step("full"), manifest, Step("verified")};
  DriveState d;
  ReplayJournal(records, d);
  EXPECT_TRUE(d.verified);
  EXPECT_TRUE(d.full);
  EXPECT_EQ(d.prepared.manifest_md5, "MD5");
  records.push_back(RangeRecord("b", 4096, 4096, kManifestArea + 4096));
  DriveState later;
  ReplayJournal(records, later);
  EXPECT_FALSE(later.verified);
  EXPECT_FALSE(later.rejected);
  records.push_back(Step("rejected"));
  DriveState rejected;
  ReplayJournal(records, rejected);
  EXPECT_TRUE(rejected.rejected);
}

std::vector<StagedRange> ThreeRanges() {
  return {{"b", "/b", 12288, 0, 4096}, {"b", "/b", 12288, 4096, 4096}, {"b", "/b", 12288, 8192, 4000}};
}

std::vector<uint64_t> TakeAll(Ledger& ledger) {
  std::vector<uint64_t> offsets;
  while (const StagedRange* r = ledger.Take()) offsets.push_back(r->offset);
  return offsets;
}

TEST(Ledger, QueuesWhatRemainsInOrderAndTakesGivenBackRangesFirst) {
  Ledger ledger(ThreeRanges());
  EXPECT_EQ(ledger.total_bytes(), 12192u);
  EXPECT_EQ(ledger.Take(), nullptr) << "nothing is queued before QueueRemaining";
  ASSERT_TRUE(ledger.QueueRemaining());
  const StagedRange* first = ledger.Take();
  const StagedRange* second = ledger.Take();
  ASSERT_NE(second, nullptr);
  ledger.GiveBack({first, second});
  EXPECT_THAT(TakeAll(ledger), ElementsAre(0, 4096, 8192));
}

TEST(Ledger, CountsWhatIsDoneAndForgetsARejectedDrivesRanges) {
  Ledger ledger(ThreeRanges());
  ledger.MarkJournaled({RangeRecord("b", 0, 4096, kManifestArea), RangeRecord("other", 0, 4096, kManifestArea)});
  EXPECT_EQ(ledger.done_bytes(), 4096u) << "a journaled range the plan does not have is not counted";
  EXPECT_TRUE(ledger.IsDone("b", 0));
  ASSERT_TRUE(ledger.QueueRemaining());
  EXPECT_THAT(TakeAll(ledger), ElementsAre(4096, 8192));
  ledger.MarkEmpty(ledger.ranges()[2]);
  EXPECT_EQ(ledger.done_bytes(), 8096u);
  std::vector<proto::DiskPrepRecord> written = {RangeRecord("b", 4096, 4096, kManifestArea)};
  EXPECT_EQ(ledger.MarkWritten(written), 12192u);
  EXPECT_EQ(ledger.RemainingBytes(), 0u);
  EXPECT_FALSE(ledger.QueueRemaining());
  ledger.Forget(written);
  EXPECT_EQ(ledger.done_bytes(), 8096u);
  EXPECT_EQ(ledger.RemainingBytes(), 4096u);
  ASSERT_TRUE(ledger.QueueRemaining());
  EXPECT_THAT(TakeAll(ledger), ElementsAre(4096));
}

TEST(Ledger, DrivesTakingAtOnceGetEveryRangeExactlyOnce) {
  std::vector<StagedRange> ranges;
  for (uint64_t i = 0; i < 2000; ++i) ranges.push_back({"b", "/b", 2000 * 4096, i * 4096, 4096});
  Ledger ledger(std::move(ranges));
  ASSERT_TRUE(ledger.QueueRemaining());
  std::vector<std::vector<const StagedRange*>> taken(4);
  std::vector<std::thread> drives;
  for (auto& mine : taken) {
    drives.emplace_back([&ledger, &mine] {
      while (const StagedRange* r = ledger.Take()) {
        mine.push_back(r);
        if (mine.size() % 7 == 0) {  // a drive that gives one back now and then, as a full one does
          ledger.GiveBack({r});
          mine.pop_back();
          if (const StagedRange* again = ledger.Take()) mine.push_back(again);
        }
      }
    });
  }
  for (auto& t : drives) t.join();
  std::map<uint64_t, int> seen;
  for (const auto& mine : taken) {
    for (const StagedRange* r : mine) ++seen[r->offset];
  }
  EXPECT_EQ(seen.size(), 2000u);
  for (const auto& [offset, n] : seen) EXPECT_EQ(n, 1) << offset;
}

class PlanDrivesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    source_.Add(diskprep_testing::UsableDrive("d1", 64u << 20));
    source_.Add(diskprep_testing::UsableDrive("d2", 64u << 20));
  }

  std::string dir_;
  diskprep_testing::MemoryDrives source_;
  Ledger ledger_{ThreeRanges()};
};

TEST_F(PlanDrivesTest, NewDrivesAreOpenedWithEmptyJournals) {
  absl::StatusOr<PlannedDrives> planned = PlanDrives(source_, {"d1", "d2"}, dir_, ledger_);
  ASSERT_THAT(planned, IsOk());
  EXPECT_FALSE(planned->resumed);
  ASSERT_EQ(planned->drives.size(), 2u);
  const DriveState& d2 = *planned->drives[1];
  EXPECT_EQ(d2.name, "d2");
  EXPECT_EQ(d2.prepared.name, "d2");
  EXPECT_EQ(d2.serial_id, "SN-d2");
  EXPECT_EQ(d2.prepared.drive_id, "") << "not formatted yet";
  EXPECT_FALSE(d2.verified);
  ASSERT_NE(d2.device, nullptr);
  EXPECT_EQ(d2.device->size(), 64u << 20);
  EXPECT_EQ(d2.volume, nullptr);
  EXPECT_EQ(ledger_.done_bytes(), 0u);
}

TEST_F(PlanDrivesTest, AJournaledDriveResumesWithItsRangesDone) {
  {
    std::unique_ptr<Journal> j = *Journal::Open(dir_ + "/d1.journal");
    proto::DiskPrepRecord formatted = Step("formatted");
    formatted.set_driveid("SN-d1");
    ASSERT_THAT(AppendRecord(*j, formatted), IsOk());
    ASSERT_THAT(AppendRecord(*j, RangeRecord("b", 4096, 4096, kManifestArea)), IsOk());
  }
  absl::StatusOr<PlannedDrives> planned = PlanDrives(source_, {"d1", "d2"}, dir_, ledger_);
  ASSERT_THAT(planned, IsOk());
  EXPECT_TRUE(planned->resumed);
  EXPECT_EQ(planned->drives[0]->prepared.drive_id, "SN-d1");
  EXPECT_EQ(planned->drives[0]->ranges.size(), 1u);
  EXPECT_TRUE(ledger_.IsDone("b", 4096));
  EXPECT_EQ(ledger_.done_bytes(), 4096u);
}

TEST_F(PlanDrivesTest, ADriveRejectedBeforeStaysOutAndItsRangesRemain) {
  {
    std::unique_ptr<Journal> j = *Journal::Open(dir_ + "/d1.journal");
    ASSERT_THAT(AppendRecord(*j, Step("formatted")), IsOk());
    ASSERT_THAT(AppendRecord(*j, RangeRecord("b", 0, 4096, kManifestArea)), IsOk());
    ASSERT_THAT(AppendRecord(*j, Step("rejected")), IsOk());
  }
  source_.SetGone("d1");  // a rejected drive is not even opened
  absl::StatusOr<PlannedDrives> planned = PlanDrives(source_, {"d1", "d2"}, dir_, ledger_);
  ASSERT_THAT(planned, IsOk());
  EXPECT_TRUE(planned->resumed);
  ASSERT_EQ(planned->drives.size(), 1u);
  EXPECT_EQ(planned->drives[0]->name, "d2");
  EXPECT_FALSE(ledger_.IsDone("b", 0));
}

TEST_F(PlanDrivesTest, AnAttachedDriveThatCannotBeUsedIsRefused) {
  drives::proto::DriveInfo usb = diskprep_testing::UsableDrive("u1", 64u << 20);
  usb.set_interface("usb");
  source_.Add(usb);
  EXPECT_THAT(PlanDrives(source_, {"d1", "u1"}, dir_, ledger_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "drive u1 (Model u1, serial SN-u1) cannot be used: its interface is usb; only internal SATA "
                       "II/III drives are accepted"));
}

TEST_F(PlanDrivesTest, TwoDrivesWithOneSerialAreRefused) {
  drives::proto::DriveInfo twin = diskprep_testing::UsableDrive("twin", 64u << 20);
  twin.set_serial("SN-d1");
  source_.Add(twin);
  EXPECT_THAT(PlanDrives(source_, {"d1", "twin"}, dir_, ledger_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("drives d1 and twin report the same serial number SN-d1")));
}

TEST_F(PlanDrivesTest, ADriveThatIsNotThereIsToBeReattached) {
  drives::proto::DriveInfo away = diskprep_testing::UsableDrive("away", 64u << 20);
  away.set_attached(false);
  source_.Add(away);
  source_.SetGone("away");
  EXPECT_THAT(PlanDrives(source_, {"away"}, dir_, ledger_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("run the same command again")));
  EXPECT_THAT(PlanDrives(source_, {"nosuch"}, dir_, ledger_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no drive named nosuch")));
}

}  // namespace
}  // namespace vmb::offline
