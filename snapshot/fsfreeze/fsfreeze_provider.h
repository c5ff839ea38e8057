// The `fsfreeze` provider: file-system-consistent snapshots on Linux. The freeze is held by a separate holder
// process (`vmsnapshot freeze-holder`, see holder.h) in its own session, so the VM is thawed even if the extension
// is killed with SIGKILL, hangs, or its process group is killed by the agent; and at the latest when the timeout
// passes (the watchdog), in which case the snapshot is reported as not file-system consistent (code 122).
#ifndef VMBACKUP_SNAPSHOT_FSFREEZE_FSFREEZE_PROVIDER_H_
#define VMBACKUP_SNAPSHOT_FSFREEZE_FSFREEZE_PROVIDER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/time/clock.h"
#include "snapshot/freeze.h"
#include "snapshot/fsfreeze/holder.h"

namespace vmb::snapshot::fsfreeze {

struct FsFreezeOptions {
  std::string holder_binary = "/proc/self/exe";  // a vmsnapshot binary
  std::string mounts_file = "/proc/self/mounts";
  std::vector<std::string> skip_mounts;
  std::string lock_file = kDefaultLockFile;
  std::string dry_run_log;  // non-empty: no system calls, the holder logs what it would do
  std::string dry_run_fail_mount;
  std::string trace_log;  // non-empty: the real calls, each logged with its time (see TraceFreezeSyscalls)
  // Decides how long to wait for the holder's answers (the deadlines of Freeze and Thaw); RealClock() when null.
  // The holder process keeps its own (real) clock.
  Clock* clock = nullptr;
};

class FsFreezeProvider : public FreezeProvider {
 public:
  explicit FsFreezeProvider(FsFreezeOptions options)
      : options_(std::move(options)), clock_(options_.clock != nullptr ? *options_.clock : RealClock()) {}
  ~FsFreezeProvider() override;

  std::string name() const override { return "fsfreeze"; }
  // File-system consistent when something was frozen; with no eligible mount nothing was, and saying otherwise
  // would be a lie.
  Consistency consistency() const override { return mounts_.empty() ? kCrashConsistent : kFileSystemConsistent; }
  absl::Status Freeze(absl::Duration timeout) override;
  absl::Status Thaw() override;

  pid_t holder_pid() const { return pid_; }
  const std::vector<std::string>& frozen_mounts() const { return mounts_; }

 private:
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  void Reap();

  FsFreezeOptions options_;
  Clock& clock_;
  pid_t pid_ = -1;
  int to_holder_ = -1;
  int from_holder_ = -1;
  std::string buffer_;
  std::vector<std::string> mounts_;
  absl::Time deadline_;  // when the holder's watchdog thaws
};

}  // namespace vmb::snapshot::fsfreeze

#endif  // VMBACKUP_SNAPSHOT_FSFREEZE_FSFREEZE_PROVIDER_H_
