// Which file systems the fsfreeze provider freezes, and in which order (the Linux twin's rules): ext3, ext4, xfs
// and btrfs mounts; never loop devices, the Azure resource disk, or mounts the admin listed to skip; each device
// once; "/" frozen last and thawed first.
#ifndef VMBACKUP_SNAPSHOT_FSFREEZE_MOUNTS_H_
#define VMBACKUP_SNAPSHOT_FSFREEZE_MOUNTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vmb::snapshot::fsfreeze {

struct Mount {
  std::string device;
  std::string mount_point;
  std::string fs_type;
};

// Parses /proc/self/mounts text (octal escapes such as \040 decoded).
std::vector<Mount> ParseMounts(absl::string_view text);

// The mount points to freeze, in freeze order. `skip` lists mount points never to freeze; the resource disk
// (/mnt/resource, or /mnt on a device labelled as such) is skipped too.
std::vector<std::string> FreezeOrder(const std::vector<Mount>& mounts, const std::vector<std::string>& skip);

}  // namespace vmb::snapshot::fsfreeze

#endif  // VMBACKUP_SNAPSHOT_FSFREEZE_MOUNTS_H_
