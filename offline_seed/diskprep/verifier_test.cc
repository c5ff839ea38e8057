// The verifier on its own, on a drive in memory written by the writer: a good drive verifies; a range changed on the
// drive, a damaged header, a manifest area that differs and a drive that goes away do not; the resume check reads
// only the last durable range.
#include "offline_seed/diskprep/verifier.h"

#include <functional>
#include <memory>
#include <string>

#include "common/concurrent/buffer_pool.h"
#include "common/crypto/random.h"
#include "common/io/memory_device.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep_testing.h"
#include "offline_seed/diskprep/writer.h"
#include "offline_seed/manifest/drive_manifest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class VerifierTest : public ::testing::Test {
 protected:
  // d1, 64 MiB in memory, formatted, with three random 4 MiB ranges of image-0000 and its manifest written.
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    const std::string staging = dir_ + "/staging";
    diskprep_testing::StageImage(staging, "image-0000.vhd", crypto::SecureRandom().Bytes(12u << 20));
    proto::ImportJobRecord job;
    job.set_container("offline");
    job.set_jobname("job1");
    ledger_ = std::make_unique<Ledger>(*PlanRanges(staging, job));
    ledger_->QueueRemaining();
    memory_ = std::make_unique<io::MemoryDevice>(64u << 20);
    drive_ = Reopen();
    ASSERT_THAT(OpenVolume(*drive_, dir_, "job1", 1u << 10), IsOk());
    CopyOptions co;
    co.buffers = &buffers_;
    ASSERT_THAT(CopyToDrive(*drive_, *ledger_, co), IsOk());
    ASSERT_EQ(drive_->ranges.size(), 3u);
    absl::StatusOr<std::string> area = WriteManifest(*drive_, ledger_->ranges());
    ASSERT_THAT(area, IsOk());
    area_ = *area;
  }

  // The drive opened again, its journal replayed and its volume unlocked (as a later run finds it).
  std::unique_ptr<DriveState> Reopen() {
    auto device = std::make_unique<io::testing::FaultyDevice>(
        memory_.get(), [this](const char* op, uint64_t offset, uint64_t length) {
          return fault_ ? fault_(op, offset, length) : absl::OkStatus();
        });
    return diskprep_testing::ChosenDrive(dir_, "d1", std::move(device));
  }

  // Flips bytes of the i-th range on the drive, under the encryption.
  void Damage(int i) {
    const uint64_t at = kHeaderSize + drive_->ranges[i].volumeoffset() + 1000;
    std::string bytes;
    ASSERT_THAT(memory_->Read(at, 16, &bytes), IsOk());
    for (char& c : bytes) c ^= 0x5a;
    ASSERT_THAT(memory_->Write(at, bytes), IsOk());
  }

  std::string dir_, area_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<io::MemoryDevice> memory_;
  std::function<absl::Status(const char*, uint64_t, uint64_t)> fault_;
  concurrent::BufferPool buffers_{RoundUp4K(manifest::kMaxRange)};
  std::unique_ptr<DriveState> drive_;
};

TEST_F(VerifierTest, AGoodDriveIsVerifiedAndJournaledSo) {
  EXPECT_FALSE(drive_->verified);
  ASSERT_THAT(VerifyDrive(*drive_, area_, buffers_, 4), IsOk());
  EXPECT_TRUE(drive_->verified);
  EXPECT_EQ(diskprep_testing::JournalSteps(dir_, "d1").back(), "verified");
  EXPECT_TRUE(Reopen()->verified) << "a later run finds it verified";
}

TEST_F(VerifierTest, ARangeChangedOnTheDriveIsFoundWhateverTheChecksInFlight) {
  Damage(1);
  for (size_t in_flight : {1u, 2u, 8u}) {
    EXPECT_THAT(VerifyDrive(*drive_, area_, buffers_, in_flight),
                StatusIs(absl::StatusCode::kDataLoss,
                         "verification failed on drive d1: offline/job1/image-0000.vhd at 4194304 does not match "
                         "its MD5"))
        << in_flight;
  }
  EXPECT_FALSE(drive_->verified);
  EXPECT_EQ(diskprep_testing::JournalSteps(dir_, "d1").back(), "manifest");
}

TEST_F(VerifierTest, AVolumeThatNoLongerUnlocksIsFound) {
  std::string header;
  ASSERT_THAT(memory_->Read(0, kHeaderSize, &header), IsOk());
  ASSERT_THAT(memory_->Write(0, std::string(kHeaderSize, '\0')), IsOk());
  EXPECT_THAT(VerifyDrive(*drive_, area_, buffers_, 2),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("the volume no longer unlocks from the drive")));
  ASSERT_THAT(memory_->Write(0, header), IsOk());
  EXPECT_THAT(VerifyDrive(*drive_, area_, buffers_, 2), IsOk());
}

TEST_F(VerifierTest, AManifestAreaThatDoesNotReadBackIsFound) {
  std::string other = area_;
  other[0] = ' ';
  EXPECT_THAT(VerifyDrive(*drive_, other, buffers_, 2),
              StatusIs(absl::StatusCode::kDataLoss,
                       "verification failed on drive d1: the manifest does not read back (a counterfeit or failing "
                       "drive)"));
}

TEST_F(VerifierTest, ADriveThatGoesAwayIsToBeReattached) {
  fault_ = [](const char*, uint64_t, uint64_t) { return absl::UnavailableError("drive d1 was pulled"); };
  EXPECT_THAT(VerifyDrive(*drive_, area_, buffers_, 2),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("run the same command again")));
  EXPECT_FALSE(drive_->verified);
}

TEST_F(VerifierTest, TheResumeCheckReadsOnlyTheLastDurableRange) {
  std::unique_ptr<DriveState> resumed = Reopen();
  ASSERT_THAT(OpenVolume(*resumed, dir_, "job1", 1u << 10), IsOk());
  EXPECT_THAT(CheckLastDurableRange(*resumed), IsOk());
  Damage(0);  // not the last: found by the verify pass, not here
  EXPECT_THAT(CheckLastDurableRange(*resumed), IsOk());
  Damage(2);
  EXPECT_THAT(CheckLastDurableRange(*resumed),
              StatusIs(absl::StatusCode::kDataLoss,
                       "drive d1: the last journaled range (offline/job1/image-0000.vhd at 8388608) does not read "
                       "back; the drive lost acknowledged writes and cannot be trusted"));
  fault_ = [](const char*, uint64_t, uint64_t) { return absl::UnavailableError("drive d1 was pulled"); };
  EXPECT_THAT(CheckLastDurableRange(*resumed), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(VerifierTest, AVerifiedDriveOrOneWithoutRangesIsNotReadOnResume) {
  ASSERT_THAT(VerifyDrive(*drive_, area_, buffers_, 2), IsOk());
  std::unique_ptr<DriveState> resumed = Reopen();
  ASSERT_THAT(OpenVolume(*resumed, dir_, "job1", 1u << 10), IsOk());
  fault_ = [](const char* op, uint64_t, uint64_t) {
    ADD_FAILURE() << op;
    return absl::UnavailableError("not to be read");
  };
  EXPECT_THAT(CheckLastDurableRange(*resumed), IsOk());
  DriveState empty;
  empty.verified = false;
  EXPECT_THAT(CheckLastDurableRange(empty), IsOk());
}

}  // namespace
}  // namespace vmb::offline
