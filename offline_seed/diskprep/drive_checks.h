// Whether a drive can be used: from what it reports (DriveRefusal: interface, form factor, size, system disk,
// write protection), and, before it is formatted, from what it does (ProbeCapacity: it keeps data everywhere it
// says it can). Neither formats nor journals anything.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_CHECKS_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_CHECKS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/io/block_device.h"
#include "offline_seed/drives/drive.pb.h"

namespace vmb::offline {

inline constexpr uint64_t kMaxDriveBytes = 10'000'000'000'000ull;  // 10 TB

// Why a drive cannot be used ("" when it can): the system disk, not attached, write-protected, not internal SATA
// II/III, an SSD that is not 2.5" or an HDD that is not 2.5"/3.5", more than 10 TB.
std::string DriveRefusal(const drives::proto::DriveInfo& drive);

// 4 KiB markers, each unique, written at 33 places spread over the device's whole reported capacity (the last one
// at its very end), flushed and read back. kDataLoss naming `name` (e.g. "d1 (serial S)") when one does not come
// back: "drive <name> is counterfeit: it holds at most N of the M it claims ...; use another drive" when the
// markers are lost from some place to the end (a drive that wraps or drops writes past its real size), else "does
// not keep what is written at ..." - either way before any data is trusted to it.
// The device's own errors are returned as they are. What was on the device is overwritten.
absl::Status ProbeCapacity(io::BlockDevice& device, const std::string& name);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_CHECKS_H_
