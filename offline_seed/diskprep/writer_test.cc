// The writer on its own, on drives in memory: formatting a new drive (and not again when it is resumed), the copy
// pipeline (ranges in order, all-zero ranges skipped, a full drive giving ranges back, the staging location or the
// drive failing on the way) and the manifest area.
#include "offline_seed/diskprep/writer.h"

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/concurrent/buffer_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/crypto/recovery_password.h"
#include "common/file/file_util.h"
#include "common/io/memory_device.h"
#include "common/json/json.h"
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

constexpr uint64_t kKdfN = 1u << 10;  // a cheap key derivation: these tests format many volumes

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    staging_ = dir_ + "/staging";
  }

  // A chosen drive of `size` bytes in memory (fault_ decides each operation on it), its journal in dir_.
  std::unique_ptr<DriveState> NewDrive(uint64_t size, const std::string& name = "d1") {
    memory_ = std::make_unique<io::MemoryDevice>(size);
    return SameDrive(name);
  }
  // The drive of NewDrive, opened again with its journal replayed (as a later run finds it).
  std::unique_ptr<DriveState> SameDrive(const std::string& name = "d1") {
    auto device = std::make_unique<io::testing::FaultyDevice>(
        memory_.get(), [this](const char* op, uint64_t offset, uint64_t length) {
          return fault_ ? fault_(op, offset, length) : absl::OkStatus();
        });
    return diskprep_testing::ChosenDrive(dir_, name, std::move(device));
  }

  // Staged images: image-0000 random (4 MiB + 4 MiB), image-0001 all zeros (4 MiB), image-0002 random (1 MiB + 512).
  std::unique_ptr<Ledger> Stage() {
    crypto::RandomSource& random = crypto::SecureRandom();
    diskprep_testing::StageImage(staging_, "image-0000.vhd", random.Bytes(8u << 20));
    diskprep_testing::StageImage(staging_, "image-0001.vhd", std::string(4u << 20, '\0'));
    diskprep_testing::StageImage(staging_, "image-0002.vhd", random.Bytes((1u << 20) + 512));
    proto::ImportJobRecord job;
    job.set_container("offline");
    job.set_jobname("job1");
    absl::StatusOr<std::vector<StagedRange>> ranges = PlanRanges(staging_, job);
    EXPECT_THAT(ranges, IsOk());
    auto ledger = std::make_unique<Ledger>(ranges.value_or(std::vector<StagedRange>{}));
    ledger->QueueRemaining();
    return ledger;
  }

  CopyOptions Options() {
    CopyOptions o;
    o.buffers = &buffers_;
    o.hashers = 2;
    o.batch_bytes = 4u << 20;  // a flush and journal records after each range
    o.progress = [this](const std::string& drive, uint64_t done, uint64_t total) {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.push_back(absl::StrCat(drive, " ", done, "/", total));
    };
    return o;
  }

  // What the volume holds for a journaled range.
  std::string OnVolume(DriveState& d, const proto::DiskPrepRecord& r) {
    std::string data;
    EXPECT_THAT(d.volume->Read(r.volumeoffset(), RoundUp4K(r.length()), &data), IsOk());
    return data.substr(0, r.length());
  }

  std::string Staged(const std::string& blob, uint64_t offset, uint64_t length) {
    std::string image = *file::ReadFile(staging_ + "/images/" + blob.substr(blob.rfind('/') + 1));
    return image.substr(offset, length);
  }

  std::string dir_, staging_;
  std::unique_ptr<io::MemoryDevice> memory_;
  std::function<absl::Status(const char*, uint64_t, uint64_t)> fault_;
  concurrent::BufferPool buffers_{RoundUp4K(manifest::kMaxRange)};
  std::mutex mu_;
  std::vector<std::string> progress_;
};

TEST_F(WriterTest, ANewDriveIsFormattedOnceAndUnlockedWhenResumed) {
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  EXPECT_EQ(d->prepared.drive_id, "SN-d1");
  ASSERT_NE(d->volume, nullptr);
  EXPECT_EQ(d->volume->header().jobname(), "job1");
  EXPECT_EQ(d->prepared.header_hash, DriveHeaderHash(*ReadVolumeHeader(*memory_)));
  const std::string key_path = dir_ + "/d1.recovery-password";
  EXPECT_EQ(*file::ReadFile(key_path), d->prepared.recovery_password);
  EXPECT_THAT(crypto::RecoveryPassword::Parse(d->prepared.recovery_password), IsOk());
  struct stat st;
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"), ElementsAre("formatted"));

  std::unique_ptr<DriveState> resumed = SameDrive();
  ASSERT_THAT(OpenVolume(*resumed, dir_, "job1", kKdfN), IsOk());
  EXPECT_EQ(resumed->prepared.header_hash, d->prepared.header_hash) << "not formatted again";
  EXPECT_EQ(resumed->prepared.recovery_password, d->prepared.recovery_password);
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"), ElementsAre("formatted"));
}

TEST_F(WriterTest, ADriveWithoutASerialGetsARandomId) {
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  d->serial_id = "";
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  EXPECT_EQ(d->prepared.drive_id.size(), 8u);
  EXPECT_EQ(d->prepared.drive_id.find_first_not_of("0123456789ABCDEF"), std::string::npos) << d->prepared.drive_id;
}

TEST_F(WriterTest, ADriveThatFailsTheCapacityProbeIsNotFormatted) {
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  fault_ = [](const char* op, uint64_t offset, uint64_t) {
    return std::string(op) == "read" && offset > (20u << 20) ? absl::DataLossError("bad sector") : absl::OkStatus();
  };
  EXPECT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), StatusIs(absl::StatusCode::kDataLoss, "bad sector"));
  EXPECT_TRUE(diskprep_testing::JournalSteps(dir_, "d1").empty());
  EXPECT_FALSE(file::ReadFile(dir_ + "/d1.recovery-password").ok());
  EXPECT_EQ(d->volume, nullptr);
}

TEST_F(WriterTest, APulledDriveIsToBeReattached) {
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  fault_ = [](const char*, uint64_t, uint64_t) { return absl::UnavailableError("drive d1 was pulled"); };
  EXPECT_THAT(OpenVolume(*d, dir_, "job1", kKdfN),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("was pulled. Reattach the drive")));
  EXPECT_TRUE(diskprep_testing::JournalSteps(dir_, "d1").empty());
}

TEST_F(WriterTest, CopiesEveryRangeInOrderAndSkipsAllZeroRanges) {
  std::unique_ptr<Ledger> ledger = Stage();
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  ASSERT_THAT(CopyToDrive(*d, *ledger, Options()), IsOk());
  ASSERT_EQ(d->ranges.size(), 3u) << "image-0001 is all zeros: nothing to ship";
  EXPECT_EQ(d->ranges[0].blob(), "offline/job1/image-0000.vhd");
  EXPECT_EQ(d->ranges[1].offset(), 4u << 20);
  EXPECT_EQ(d->ranges[2].blob(), "offline/job1/image-0002.vhd");
  EXPECT_EQ(d->ranges[0].volumeoffset(), kManifestArea);
  EXPECT_EQ(d->ranges[2].volumeoffset(), kManifestArea + (8u << 20));
  EXPECT_EQ(d->next_offset, kManifestArea + (8u << 20) + RoundUp4K((1u << 20) + 512));
  for (const auto& r : d->ranges) {
    EXPECT_EQ(r.step(), "range");
    const std::string staged = Staged(r.blob(), r.offset(), r.length());
    EXPECT_EQ(r.md5(), crypto::Base16Encode(crypto::Md5(staged), true));
    EXPECT_TRUE(OnVolume(*d, r) == staged) << r.blob() << " at " << r.offset();
  }
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"), ElementsAre("formatted", "range", "range", "range"));
  EXPECT_FALSE(d->verified);
  EXPECT_FALSE(d->full);
  EXPECT_EQ(ledger->RemainingBytes(), 0u);
  EXPECT_EQ(ledger->done_bytes(), ledger->total_bytes());
  ASSERT_FALSE(progress_.empty());
  EXPECT_EQ(progress_.back(), absl::StrCat("d1 ", ledger->total_bytes(), "/", ledger->total_bytes()));
}

TEST_F(WriterTest, AFullDriveGivesTheRangesItCannotTakeBackInOrder) {
  std::unique_ptr<Ledger> ledger = Stage();
  // 1 MiB header, 16 MiB manifest area, room for one 4 MiB range.
  std::unique_ptr<DriveState> d = NewDrive((22u << 20));
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  ASSERT_THAT(CopyToDrive(*d, *ledger, Options()), IsOk());
  EXPECT_TRUE(d->full);
  ASSERT_EQ(d->ranges.size(), 1u);
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"), ElementsAre("formatted", "range", "full"));
  std::vector<std::pair<std::string, uint64_t>> left;
  while (const StagedRange* r = ledger->Take()) left.push_back({r->blob.substr(13), r->offset});
  EXPECT_THAT(left, ElementsAre(std::pair<std::string, uint64_t>{"image-0000.vhd", 4u << 20},
                                std::pair<std::string, uint64_t>{"image-0001.vhd", 0},
                                std::pair<std::string, uint64_t>{"image-0002.vhd", 0}));
  EXPECT_EQ(ledger->RemainingBytes(), (8u << 20) + (1u << 20) + 512);
}

TEST_F(WriterTest, AStagingLocationThatCannotBeReadIsNotTheDrivesFault) {
  std::unique_ptr<Ledger> ledger = Stage();
  ASSERT_EQ(::unlink((staging_ + "/images/image-0002.vhd").c_str()), 0);
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  EXPECT_THAT(CopyToDrive(*d, *ledger, Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot read the staging location")));
  const StagedRange* back = ledger->Take();
  ASSERT_NE(back, nullptr) << "the range is given back";
  EXPECT_EQ(back->blob, "offline/job1/image-0002.vhd");
  EXPECT_EQ(ledger->RemainingBytes(), (1u << 20) + 512);
}

TEST_F(WriterTest, ADrivePulledMidCopyJournalsOnlyWhatWasFlushed) {
  std::unique_ptr<Ledger> ledger = Stage();
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  // Writes into the second range's place on the drive fail: the drive went away.
  const uint64_t second = kHeaderSize + kManifestArea + (4u << 20);
  fault_ = [second](const char* op, uint64_t offset, uint64_t) {
    return std::string(op) != "read" && offset >= second ? absl::UnavailableError("drive d1 was pulled")
                                                         : absl::OkStatus();
  };
  EXPECT_THAT(CopyToDrive(*d, *ledger, Options()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("run the same command again")));
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"), ElementsAre("formatted", "range"));
  EXPECT_EQ(d->ranges.size(), 1u);
  EXPECT_FALSE(ledger->IsDone("offline/job1/image-0000.vhd", 4u << 20));
  EXPECT_FALSE(ledger->IsDone("offline/job1/image-0002.vhd", 0));
}

TEST_F(WriterTest, TheManifestAreaListsEveryRangeAndItsPlace) {
  std::unique_ptr<Ledger> ledger = Stage();
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  ASSERT_THAT(CopyToDrive(*d, *ledger, Options()), IsOk());
  absl::StatusOr<std::string> area = WriteManifest(*d, ledger->ranges());
  ASSERT_THAT(area, IsOk());
  EXPECT_EQ(area->size() % 4096, 0u);
  std::string back;
  ASSERT_THAT(d->volume->Read(0, area->size(), &back), IsOk());
  EXPECT_TRUE(back == *area);
  back.resize(back.find('\0'));
  proto::DriveContents contents;
  ASSERT_THAT(json::Parse(back, &contents, "contents"), IsOk());
  ASSERT_EQ(contents.regions_size(), 3);
  EXPECT_EQ(contents.regions(2).volumeoffset(), d->ranges[2].volumeoffset());
  EXPECT_EQ(d->prepared.manifest_md5, crypto::Base16Encode(crypto::Md5(contents.manifestxml()), true));
  absl::StatusOr<manifest::DriveManifest> m = manifest::Parse(contents.manifestxml());
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->drive_id, "SN-d1");
  ASSERT_EQ(m->blobs.size(), 2u);
  EXPECT_EQ(m->blobs[0].blob_path, "offline/job1/image-0000.vhd");
  EXPECT_EQ(m->blobs[0].file_path, "\\offline\\job1\\image-0000.vhd");
  EXPECT_EQ(m->blobs[0].length, 8u << 20);
  ASSERT_EQ(m->blobs[0].ranges.size(), 2u);
  EXPECT_EQ(m->blobs[0].ranges[1].offset, 4u << 20);
  EXPECT_EQ(m->blobs[1].length, (1u << 20) + 512);
  EXPECT_THAT(diskprep_testing::JournalSteps(dir_, "d1"),
              ElementsAre("formatted", "range", "range", "range", "manifest"));
}

TEST_F(WriterTest, AManifestThatCannotBeWrittenIsNotJournaled) {
  std::unique_ptr<Ledger> ledger = Stage();
  std::unique_ptr<DriveState> d = NewDrive(64u << 20);
  ASSERT_THAT(OpenVolume(*d, dir_, "job1", kKdfN), IsOk());
  ASSERT_THAT(CopyToDrive(*d, *ledger, Options()), IsOk());
  fault_ = [](const char* op, uint64_t, uint64_t) {
    return std::string(op) == "flush" ? absl::UnavailableError("drive d1 was pulled") : absl::OkStatus();
  };
  EXPECT_THAT(WriteManifest(*d, ledger->ranges()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("run the same command again")));
  EXPECT_EQ(diskprep_testing::JournalSteps(dir_, "d1").back(), "range");
}

}  // namespace
}  // namespace vmb::offline
