// Where diskprep finds drives: one interface, two backends. The simulator's drive bay, and real drives on Linux
// read from /sys/block (model, serial, size, rotational, transport), never offering the system disk or a disk with
// mounted partitions. Real drives are written with O_DIRECT through RawBlockDevice.
#ifndef VMBACKUP_OFFLINE_SEED_DRIVES_DRIVE_SOURCE_H_
#define VMBACKUP_OFFLINE_SEED_DRIVES_DRIVE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/io/block_device.h"
#include "simulators/sata/drive.pb.h"

namespace vmb::offline {

// Real drives from `sys_block` (normally /sys/block) and `mounts` (normally /proc/self/mounts text). Each drive is
// described in the simulator's terms (interface sata2/sata3/usb/nvme, media ssd/hdd; form factor is unknown to
// sysfs and left empty, so DriveRefusal asks the admin to confirm with --form-factor). The disk holding "/" is
// marked as the system disk; disks with mounted partitions are not attached (not offered).
absl::StatusOr<std::vector<sata::proto::DriveSpec>> ListLinuxDrives(const std::string& sys_block,
                                                                    const std::string& mounts_text);

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
