// The verifier: whether a drive holds what its journal says. Reads only, apart from the "verified" record.
//   CheckLastDurableRange  on resume: the last journaled range of a formatted drive not verified since it was
//                          written reads back with its MD5 (a drive that lost acknowledged writes is not trusted
//                          further). Nothing to check (OK) for a verified drive or one without ranges.
//   VerifyDrive            after WriteManifest: every journaled range read back and decrypted in order, its MD5
//                          checked against the journal on `checks_in_flight` threads beside the reads; then, as the
//                          datacenter will, the volume unlocked afresh from the drive (its header and key protector)
//                          and the manifest area read back and compared with `area`, as written. Then the
//                          "verified" record, and the drive is verified.
// kDataLoss (naming the drive) when the drive lost or changed data: the caller rejects it. kUnavailable with the
// reattach hint when the drive goes away.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_VERIFIER_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_VERIFIER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "common/concurrent/buffer_pool.h"
#include "offline_seed/diskprep/drive_state.h"

namespace vmb::offline {

// `drive` has its volume open (OpenVolume).
absl::Status CheckLastDurableRange(DriveState& drive);

// `buffers` hands out buffers of at least RoundUp4K(manifest::kMaxRange) bytes.
absl::Status VerifyDrive(DriveState& drive, const std::string& area, concurrent::BufferPool& buffers,
                         size_t checks_in_flight);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_VERIFIER_H_
