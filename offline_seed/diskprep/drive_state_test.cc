// The journal records' round trip (and a line that is not a record), range keys, the 4 KiB rounding, and the
// reattach hint that only a drive that went away gets.
#include "offline_seed/diskprep/drive_state.h"

#include <memory>
#include <string>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(DriveState, RecordsReadBackAsAppendedAndOtherLinesAreSkipped) {
  const std::string path = vmb::testing::PerTestDir() + "/d1.journal";
  {
    std::unique_ptr<Journal> j = *Journal::Open(path);
    proto::DiskPrepRecord formatted;
    formatted.set_step("formatted");
    formatted.set_driveid("SN-d1");
    ASSERT_THAT(AppendRecord(*j, formatted), IsOk());
    ASSERT_THAT(j->Append("not json"), IsOk());
    proto::DiskPrepRecord range;
    range.set_step("range");
    range.set_blob("offline/job/image-0000.vhd");
    range.set_offset(4u << 20);
    range.set_length(4096);
    range.set_md5("ABC");
    range.set_volumeoffset(kManifestArea);
    ASSERT_THAT(AppendRecord(*j, range), IsOk());
  }
  std::unique_ptr<Journal> again = *Journal::Open(path);
  std::vector<proto::DiskPrepRecord> records = Records(*again);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].step(), "formatted");
  EXPECT_EQ(records[0].driveid(), "SN-d1");
  EXPECT_EQ(records[1].step(), "range");
  EXPECT_EQ(records[1].offset(), 4u << 20);
  EXPECT_EQ(records[1].volumeoffset(), kManifestArea);
}

TEST(DriveState, RangeKeyAndRounding) {
  EXPECT_EQ(RangeKey("offline/job/image-0000.vhd", 4194304), "offline/job/image-0000.vhd@4194304");
  EXPECT_NE(RangeKey("a", 12), RangeKey("a1", 2));
  EXPECT_EQ(RoundUp4K(0), 0u);
  EXPECT_EQ(RoundUp4K(1), 4096u);
  EXPECT_EQ(RoundUp4K(4096), 4096u);
  EXPECT_EQ(RoundUp4K(4097), 8192u);
}

TEST(DriveState, DefaultsAreThoseOfANewDrive) {
  DriveState d;
  EXPECT_EQ(d.next_offset, kManifestArea);  // the ranges follow the manifest area
  EXPECT_FALSE(d.full);
  EXPECT_FALSE(d.rejected);
}

TEST(DriveState, OnlyADriveThatWentAwayGetsTheReattachHint) {
  EXPECT_THAT(WithReattachHint(absl::UnavailableError("drive d1 was pulled")),
              StatusIs(absl::StatusCode::kUnavailable,
                       "drive d1 was pulled. Reattach the drive (or attach another) and run the same command again: "
                       "diskprep resumes at the last durable range"));
  EXPECT_THAT(WithReattachHint(absl::DataLossError("bad sector")), StatusIs(absl::StatusCode::kDataLoss, "bad sector"));
  EXPECT_THAT(WithReattachHint(absl::OkStatus()), IsOk());
}

}  // namespace
}  // namespace vmb::offline
