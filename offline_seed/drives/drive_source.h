// Where diskprep finds drives: the DriveEnumerator interface. This computer's drives (LinuxDrives: /sys/block for
// model, serial, size, rotational, transport; never offering the system disk or a disk with mounted partitions;
// written with O_DIRECT through RawBlockDevice) are the production backend; the simulated SATA bay
// (simulators/sata/bay_drives.h) is the other, for tests.
#ifndef VMBACKUP_OFFLINE_SEED_DRIVES_DRIVE_SOURCE_H_
#define VMBACKUP_OFFLINE_SEED_DRIVES_DRIVE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/io/block_device.h"
#include "offline_seed/drives/drive.pb.h"

namespace vmb::offline {

// The drives a computer has, and opening one to write it.
class DriveEnumerator {
 public:
  virtual ~DriveEnumerator() = default;
  // Every drive, attached or not, by name.
  virtual absl::StatusOr<std::vector<drives::proto::DriveInfo>> List() = 0;
  // One drive: kNotFound naming the drives there are.
  virtual absl::StatusOr<drives::proto::DriveInfo> Get(const std::string& name);
  // Opens a drive to read and write it: kNotFound for an unknown name, kUnavailable for one that went away.
  virtual absl::StatusOr<std::unique_ptr<io::BlockDevice>> Open(const std::string& name) = 0;
};

// Real drives from `sys_block` (normally /sys/block) and `mounts` (normally /proc/self/mounts text): interface
// sata3/usb/nvme/unknown, media ssd/hdd (rotational), the kernel's ro flag; the form factor is unknown to sysfs and
// left empty. The disk holding "/" (or /boot) is the system disk; disks with mounted partitions are not attached
// (not offered). `dev` is where the device nodes are (normally /dev).
absl::StatusOr<std::vector<drives::proto::DriveInfo>> ListLinuxDrives(const std::string& sys_block,
                                                                      const std::string& mounts_text,
                                                                      const std::string& dev = "/dev");

// This computer's drives (ListLinuxDrives), opened with RawBlockDevice.
class LinuxDrives : public DriveEnumerator {
 public:
  explicit LinuxDrives(std::string sys_block = "/sys/block", std::string mounts = "/proc/self/mounts",
                       std::string dev = "/dev")
      : sys_block_(std::move(sys_block)), mounts_(std::move(mounts)), dev_(std::move(dev)) {}
  absl::StatusOr<std::vector<drives::proto::DriveInfo>> List() override;
  absl::StatusOr<std::unique_ptr<io::BlockDevice>> Open(const std::string& name) override;

 private:
  std::string sys_block_, mounts_, dev_;
};

// A block device (or any file) opened with O_DIRECT: reads and writes go through 4 KiB-aligned buffers, bypassing
// the page cache, and Flush is fdatasync. Offsets and lengths must be multiples of `alignment`.
class RawBlockDevice : public io::BlockDevice {
 public:
  static absl::StatusOr<std::unique_ptr<RawBlockDevice>> Open(const std::string& path, uint64_t size,
                                                              uint32_t alignment = 4096);
  ~RawBlockDevice() override;
  uint64_t size() const override { return size_; }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override;
  bool direct() const { return direct_; }

 private:
  RawBlockDevice(int fd, std::string path, uint64_t size, uint32_t alignment, bool direct)
      : fd_(fd), path_(std::move(path)), size_(size), alignment_(alignment), direct_(direct) {}
  int fd_;
  std::string path_;
  uint64_t size_;
  uint32_t alignment_;
  bool direct_;
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DRIVES_DRIVE_SOURCE_H_
