// DriveRefusal's rules one by one, and the capacity probe against an honest device, a counterfeit that wraps its
// writes, one that drops them, and one that fails.
#include "offline_seed/diskprep/drive_checks.h"

#include <string>

#include "common/io/memory_device.h"
#include "common/io/testing/block_device_contract.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep_testing.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(DriveRefusal, AcceptsInternalSataDrivesUpTo10TB) {
  drives::proto::DriveInfo d = diskprep_testing::UsableDrive("d1", kMaxDriveBytes);
  EXPECT_EQ(DriveRefusal(d), "");
  d.set_interface("sata2");
  d.set_media("hdd");
  d.set_formfactor("3.5");
  EXPECT_EQ(DriveRefusal(d), "");
  d.set_formfactor("2.5");
  EXPECT_EQ(DriveRefusal(d), "");
}

TEST(DriveRefusal, SaysWhyADriveCannotBeUsed) {
  const drives::proto::DriveInfo usable = diskprep_testing::UsableDrive("d1", 64u << 20);
  drives::proto::DriveInfo d = usable;
  d.set_system(true);
  EXPECT_EQ(DriveRefusal(d), "it is the system disk");
  d = usable;
  d.set_attached(false);
  EXPECT_THAT(DriveRefusal(d), HasSubstr("not attached"));
  d = usable;
  d.set_writeprotected(true);
  EXPECT_EQ(DriveRefusal(d), "it is write-protected");
  d = usable;
  d.set_interface("usb");
  EXPECT_EQ(DriveRefusal(d), "its interface is usb; only internal SATA II/III drives are accepted");
  d = usable;
  d.set_formfactor("3.5");
  EXPECT_EQ(DriveRefusal(d), "SSDs must be 2.5\"");
  d = usable;
  d.set_media("hdd");
  d.set_formfactor("1.8");
  EXPECT_EQ(DriveRefusal(d), "HDDs must be 2.5\" or 3.5\"");
  d = usable;
  d.set_capacity(12'000'000'000'000ull);
  EXPECT_EQ(DriveRefusal(d), "it holds 12.0 TB; drives over 10 TB are not accepted");
}

TEST(DriveRefusal, TheSystemDiskIsNamedFirst) {
  drives::proto::DriveInfo d = diskprep_testing::UsableDrive("sda", 64u << 20);
  d.set_system(true);
  d.set_attached(false);
  d.set_interface("nvme");
  EXPECT_EQ(DriveRefusal(d), "it is the system disk");
}

TEST(ProbeCapacity, AnHonestDriveKeepsEveryMarker) {
  io::MemoryDevice device(64u << 20);
  ASSERT_THAT(ProbeCapacity(device, "d1"), IsOk());
  std::string first, last;
  ASSERT_THAT(device.Read(0, 4096, &first), IsOk());
  ASSERT_THAT(device.Read(device.size() - 4096, 4096, &last), IsOk());
  EXPECT_THAT(first, ::testing::StartsWith("vmbackup capacity probe 0 "));
  EXPECT_THAT(last, ::testing::StartsWith(absl::StrCat("vmbackup capacity probe ", device.size() - 4096, " ")));
}

TEST(ProbeCapacity, ADeviceOfLessThanTwoUnitsIsNotProbed) {
  io::MemoryDevice inner(4096);
  int operations = 0;
  io::testing::FaultyDevice device(&inner, [&](const char*, uint64_t, uint64_t) {
    ++operations;
    return absl::OkStatus();
  });
  EXPECT_THAT(ProbeCapacity(device, "tiny"), IsOk());
  EXPECT_EQ(operations, 0);
}

// Reports `reported` bytes but keeps `real`: a write past that lands at its offset modulo `real`.
class WrappingDevice : public io::BlockDevice {
 public:
  WrappingDevice(uint64_t reported, uint64_t real) : reported_(reported), real_(real) {}
  uint64_t size() const override { return reported_; }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override {
    return real_.Read(offset % real_.size(), length, out);
  }
  absl::Status Write(uint64_t offset, absl::string_view data) override {
    return real_.Write(offset % real_.size(), data);
  }
  absl::Status Flush() override { return absl::OkStatus(); }

 private:
  uint64_t reported_;
  io::MemoryDevice real_;
};

TEST(ProbeCapacity, ACounterfeitThatWrapsIsFound) {
  WrappingDevice fake(64u << 20, 20u << 20);
  // It keeps 20 MiB: the first marker lost is the one at 11/32 of 64 MiB (23064576 bytes).
  EXPECT_THAT(ProbeCapacity(fake, "fake (serial SN-1)"),
              StatusIs(absl::StatusCode::kDataLoss,
                       "drive fake (serial SN-1) is counterfeit: it holds at most 23.1 MB (23064576 bytes) of the "
                       "67.1 MB (67108864 bytes) it claims (what is written past that is lost); use another drive"));
}

TEST(ProbeCapacity, ADriveThatDropsWritesPastItsRealSizeIsFound) {
  io::MemoryDevice inner(64u << 20);
  // Writes past 40 MiB are acknowledged and lost.
  class Dropping : public io::BlockDevice {
   public:
    explicit Dropping(io::BlockDevice* inner) : inner_(inner) {}
    uint64_t size() const override { return inner_->size(); }
    absl::Status Read(uint64_t o, uint64_t l, std::string* out) override { return inner_->Read(o, l, out); }
    absl::Status Write(uint64_t o, absl::string_view data) override {
      return o >= (40u << 20) ? absl::OkStatus() : inner_->Write(o, data);
    }
    absl::Status Flush() override { return absl::OkStatus(); }

   private:
    io::BlockDevice* inner_;
  } device(&inner);
  EXPECT_THAT(ProbeCapacity(device, "d1"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("use another drive")));
}

TEST(ProbeCapacity, TheDevicesOwnErrorsAreReturnedAsTheyAre) {
  io::MemoryDevice inner(64u << 20);
  io::testing::FaultyDevice pulled(&inner, [](const char* op, uint64_t, uint64_t) {
    return std::string(op) == "flush" ? absl::UnavailableError("drive pulled") : absl::OkStatus();
  });
  EXPECT_THAT(ProbeCapacity(pulled, "d1"), StatusIs(absl::StatusCode::kUnavailable, "drive pulled"));
}

}  // namespace
}  // namespace vmb::offline
