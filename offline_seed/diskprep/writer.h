// The writer: what diskprep writes onto a drive, each step journaled only once it is durable, so that a run that
// stops anywhere (crash, pulled drive, power cut) is resumed by the next from the journal.
//   OpenVolume     a new drive (no "formatted" record) is probed (ProbeCapacity) and formatted with a new recovery
//                  password, kept in <key_dir>/<drive>.recovery-password (0600) before the "formatted" record; a
//                  formatted one is unlocked with its kept password. Either way the drive's volume, password and
//                  header hash are set.
//   CopyToDrive    the copy pipeline: takes the next range from the Ledger's queue until it is empty or the drive is
//                  full, reading and hashing ahead of the drive; writes each range encrypted at the drive's next
//                  offset; after every ~32 MiB a drive flush, then a "range" record per range and the ranges marked
//                  written in the Ledger. A drive without room for the next range gets a "full" record. Ranges taken
//                  and not journaled go back to the front of the queue in order (or are written again by a later
//                  run). All-zero ranges are not written: marked empty.
//   WriteManifest  the DriveContents (DriveManifest XML and where each range is) at the start of the volume, flushed,
//                  then a "manifest" record with the manifest's MD5; returns the area as written.
// Errors: kUnavailable with the reattach hint (WithReattachHint) when the drive goes away; kFailedPrecondition when
// the staging location cannot be read (never the drive's fault); a drive's kDataLoss (e.g. ProbeCapacity) as it is,
// for the caller to reject the drive; kResourceExhausted when the manifest does not fit its area.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_WRITER_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/concurrent/buffer_pool.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/diskprep/planner.h"

namespace vmb::offline {

// `drive` has its journal replayed and its device open.
absl::Status OpenVolume(DriveState& drive, const std::string& key_dir, const std::string& job_name, uint64_t kdf_n);

struct CopyOptions {
  concurrent::BufferPool* buffers = nullptr;  // range buffers of at least RoundUp4K(manifest::kMaxRange) bytes
  size_t hashers = 1;                         // ranges read and hashed at once, ahead of the drive
  uint64_t batch_bytes = 32u << 20;           // written between two flushes
  // After each batch journaled: the drive, the bytes done (Ledger::MarkWritten) and the Ledger's total.
  std::function<void(const std::string& drive, uint64_t done, uint64_t total)> progress;
};

// `drive` has its volume open (OpenVolume); the Ledger's queue is filled (QueueRemaining).
absl::Status CopyToDrive(DriveState& drive, Ledger& ledger, const CopyOptions& options);

// `plan` gives each blob's length.
absl::StatusOr<std::string> WriteManifest(DriveState& drive, const std::vector<StagedRange>& plan);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_WRITER_H_
