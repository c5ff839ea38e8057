// The freeze record: what is frozen, by whom and until when, written to tmpfs (next to the freeze lock, in /run)
// before the first FIFREEZE and removed after the thaw. Whatever kills every process of a freeze at once, the record
// survives, and the next vmsnapshot command (enable, install, disable, uninstall, update, or the per-minute
// `vmsnapshot thaw-stale` the handler installs) thaws what it names.
//
// A record is stale when its deadline has passed, or when neither the holder nor the guardian it names is alive.
// FITHAW on a mount that is not frozen fails with EINVAL and does no harm, so thawing a stale record is always safe.
#ifndef VMBACKUP_SNAPSHOT_FSFREEZE_FREEZE_RECORD_H_
#define VMBACKUP_SNAPSHOT_FSFREEZE_FREEZE_RECORD_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "snapshot/fsfreeze/syscalls.h"

namespace vmb::snapshot::fsfreeze {

struct FreezeRecord {
  absl::Time deadline;
  pid_t holder = 0;
  pid_t guardian = 0;
  std::vector<std::string> mounts;  // in freeze order
};

// The record's path for a freeze lock file: "<lock>.state" (/run/lock/vmsnapshot-freeze.lock.state by default).
std::string RecordPathFor(const std::string& lock_file);

// Written atomically (temp file + rename), mode 0600.
absl::Status WriteRecord(const std::string& path, const FreezeRecord& record);
// kNotFound when there is no record; kDataLoss when it cannot be read as one.
absl::StatusOr<FreezeRecord> ReadRecord(const std::string& path);

// True when a process with this pid exists and is not a zombie.
bool ProcessAlive(pid_t pid);

struct SweepResult {
  bool found = false;   // a record existed
  bool thawed = false;  // it was stale and its mounts were thawed
  std::string note;     // what was done, for logs and the status
};

// Thaws the mounts of a stale record (last frozen first) and removes the record; leaves a live one alone. Makes no
// write to any file system before the thaw (the record lives in tmpfs).
SweepResult ThawStaleFreeze(FreezeSyscalls& sys, const std::string& lock_file, absl::Time now);

}  // namespace vmb::snapshot::fsfreeze

#endif  // VMBACKUP_SNAPSHOT_FSFREEZE_FREEZE_RECORD_H_
