#include "offline_seed/drives/drive_source.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/io/testing/block_device_contract.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/diskprep.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Dir() { return ::vmb::testing::TempDir(); }

void MakeDisk(const std::string& root, const std::string& name, uint64_t sectors, const std::string& model,
              const std::string& serial, bool rotational, const std::string& link) {
  std::string base = root + "/" + name;
  ASSERT_THAT(file::MakeDirs(base + "/queue"), IsOk());
  ASSERT_THAT(file::MakeDirs(root + "/../devices" + link), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(base + "/size", std::to_string(sectors) + "\n", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(base + "/queue/rotational", rotational ? "1\n" : "0\n", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(base + "/queue/logical_block_size", "512\n", 0644), IsOk());
  ASSERT_EQ(::symlink((root + "/../devices" + link).c_str(), (base + "/device").c_str()), 0);
  ASSERT_THAT(file::WriteFileAtomic(base + "/device/model", model + "   \n", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(base + "/device/serial", serial + "\n", 0644), IsOk());
}

TEST(LinuxDrives, FromSysBlockWithSystemAndMountedDisksNotOffered) {
  std::string root = Dir() + "/sys/block";
  MakeDisk(root, "sda", 500118192, "Samsung SSD 860", "S3Z1", false, "/pci0000:00/ata1/host0/target0:0:0/0:0:0:0");
  MakeDisk(root, "sdb", 7814037168, "WDC WD40EFRX", "WD-WCC7", true, "/pci0000:00/ata2/host1/target1:0:0/1:0:0:0");
  MakeDisk(root, "sdc", 976773168, "Ext HDD", "USB1", true, "/pci0000:00/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0");
  MakeDisk(root, "sdd", 976773168, "Data", "D1", true, "/pci0000:00/ata3/host2/target2:0:0/2:0:0:0");
  MakeDisk(root, "loop0", 1000, "", "", false, "/virtual/loop0");
  std::string mounts =
      "/dev/sda2 / ext4 rw 0 0\n/dev/sda1 /boot/efi vfat rw 0 0\n/dev/sdd1 /data xfs rw 0 0\n"
      "tmpfs /run tmpfs rw 0 0\n";
  auto drives = ListLinuxDrives(root, mounts);
  ASSERT_TRUE(drives.ok()) << drives.status();
  ASSERT_EQ(drives->size(), 4u);  // loop devices are never drives
  const auto& sda = (*drives)[0];
  EXPECT_EQ(sda.model(), "Samsung SSD 860");
  EXPECT_EQ(sda.media(), "ssd");
  EXPECT_EQ(sda.interface(), "sata3");
  EXPECT_TRUE(sda.system());
  EXPECT_THAT(DriveRefusal(sda), HasSubstr("system disk"));
  const auto& sdb = (*drives)[1];
  EXPECT_EQ(sdb.capacity(), 7814037168ull * 512);
  EXPECT_EQ(sdb.media(), "hdd");
  EXPECT_FALSE(sdb.system());
  EXPECT_TRUE(sdb.attached());
  EXPECT_EQ((*drives)[2].interface(), "usb");
  EXPECT_THAT(DriveRefusal((*drives)[2]), HasSubstr("usb"));
  EXPECT_FALSE((*drives)[3].attached()) << "a disk with a mounted partition is not offered";
}

// The DriveEnumerator over /sys/block: lists with device paths and the kernel's ro flag, finds a drive by name
// (naming the others when it is not there), opens a usable one, and never opens the system disk or a mounted one.
TEST(LinuxDrives, EnumeratorListsFindsAndOpensOnlyUsableDrives) {
  std::string root = Dir() + "/enum/sys/block", dev = Dir() + "/enum/dev";
  ASSERT_THAT(file::MakeDirs(dev), IsOk());
  MakeDisk(root, "sda", 1000000, "Samsung SSD 860", "S3Z1", false, "/pci0000:00/ata1/host0/target0:0:0/0:0:0:0");
  MakeDisk(root, "sdb", 16384, "WDC WD40EFRX", "WD-WCC7", true, "/pci0000:00/ata2/host1/target1:0:0/1:0:0:0");
  MakeDisk(root, "sdd", 16384, "Data", "D1", true, "/pci0000:00/ata3/host2/target2:0:0/2:0:0:0");
  ASSERT_THAT(file::WriteFileAtomic(root + "/sdd/ro", "1\n", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(dev + "/sdb", std::string(16384 * 512, '\0'), 0644), IsOk());
  const std::string mounts = Dir() + "/enum/mounts";
  ASSERT_THAT(file::WriteFileAtomic(mounts, "/dev/sda2 / ext4 rw 0 0\n", 0644), IsOk());
  LinuxDrives drives(root, mounts, dev);
  absl::StatusOr<std::vector<drives::proto::DriveInfo>> all = drives.List();
  ASSERT_THAT(all.status(), IsOk());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].devicepath(), dev + "/sdb");
  EXPECT_TRUE((*all)[2].writeprotected());
  EXPECT_THAT(DriveRefusal((*all)[2]), HasSubstr("write-protected"));
  EXPECT_THAT(drives.Get("sdz").status(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("sda, sdb, sdd")));
  EXPECT_THAT(drives.Open("sda").status(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("system disk")));
  absl::StatusOr<std::unique_ptr<io::BlockDevice>> sdb = drives.Open("sdb");
  ASSERT_THAT(sdb.status(), IsOk());
  EXPECT_EQ((*sdb)->size(), 16384u * 512);
  ASSERT_THAT((*sdb)->Write(4096, std::string(4096, 'x')), IsOk());
  std::string back;
  ASSERT_THAT((*sdb)->Read(4096, 4096, &back), IsOk());
  EXPECT_EQ(back, std::string(4096, 'x'));
}

TEST(RawBlockDevice, KeepsTheBlockDeviceContract) {
  const std::string path = Dir() + "/contract.img";
  ASSERT_THAT(file::WriteFileAtomic(path, std::string(64 * 4096, '\0'), 0644), IsOk());
  absl::StatusOr<std::unique_ptr<RawBlockDevice>> device = RawBlockDevice::Open(path, 64 * 4096);
  ASSERT_TRUE(device.ok()) << device.status();
  io::testing::ExpectBlockDeviceContract(**device);
}

TEST(RawBlockDevice, AlignedDirectIo) {
  std::string path = Dir() + "/raw.img";
  ASSERT_THAT(file::WriteFileAtomic(path, std::string(1 << 20, '\0'), 0644), IsOk());
  auto dev = RawBlockDevice::Open(path, 1 << 20);
  ASSERT_TRUE(dev.ok()) << dev.status();
  std::string data = crypto::SecureRandom().Bytes(64 * 1024);
  ASSERT_THAT((*dev)->Write(8192, data), IsOk());
  ASSERT_THAT((*dev)->Flush(), IsOk());
  std::string back;
  ASSERT_THAT((*dev)->Read(8192, data.size(), &back), IsOk());
  EXPECT_TRUE(back == data);
  EXPECT_THAT((*dev)->Write(100, std::string(4096, 'x')), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*dev)->Write(1 << 20, std::string(4096, 'x')), StatusIs(absl::StatusCode::kOutOfRange));
  std::cerr << "O_DIRECT " << ((*dev)->direct() ? "in use" : "not supported by this file system") << "\n";
}

}  // namespace
}  // namespace vmb::offline
