// The freeze holder: a small separate process that freezes the file systems and keeps them frozen only as long as
// the extension wants, and never longer. It thaws, in reverse order, when
//   - the extension says "thaw" on its stdin,
//   - its stdin reaches end of file (the extension exited or was killed, even with SIGKILL),
//   - the timeout passes (the watchdog), or
//   - it gets SIGTERM, SIGINT or SIGHUP.
// Before the first FIFREEZE it forks a guardian in a session of its own, which thaws when the holder dies without
// saying it is done (SIGKILL, OOM kill, a kill of the holder's session or group) and at the deadline whatever the
// holder is doing (SIGSTOP, a hang), and writes the freeze record (freeze_record.h) that any later vmsnapshot
// command uses to thaw a freeze whose processes all died at once. The holder must run in a single-threaded process
// (it forks); `vmsnapshot freeze-holder` is one.
// A global lock file makes a second freeze fail while one is held (the guardian keeps it until it exits).
//
// Protocol on stdout, one line each: "frozen" | "error <code> <message>", then "thawed" | "watchdog-thawed".
#ifndef VMBACKUP_SNAPSHOT_FSFREEZE_HOLDER_H_
#define VMBACKUP_SNAPSHOT_FSFREEZE_HOLDER_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/time/clock.h"
#include "snapshot/fsfreeze/syscalls.h"

namespace vmb::snapshot::fsfreeze {

inline constexpr char kDefaultLockFile[] = "/run/lock/vmsnapshot-freeze.lock";

struct HolderOptions {
  std::vector<std::string> mounts;  // in freeze order
  absl::Duration timeout = absl::Seconds(60);
  std::string lock_file = kDefaultLockFile;  // the freeze record is "<lock_file>.state"
  bool guardian = true;                      // fork the guardian (tests of the holder alone turn it off)
  // Decides the deadline (the watchdog, and the guardian's), and the stale-freeze check before freezing; RealClock()
  // when null. A FakeClock that never advances leaves the watchdog to the other ways out.
  Clock* clock = nullptr;
};

// Runs the holder in this process on `in_fd` / `out_fd`. Returns the process exit status:
// 0 thawed on request, 2 could not freeze, 3 thawed by the watchdog, 4 thawed because the extension went away.
int RunHolder(FreezeSyscalls& sys, const HolderOptions& options, int in_fd, int out_fd);

}  // namespace vmb::snapshot::fsfreeze

#endif  // VMBACKUP_SNAPSHOT_FSFREEZE_HOLDER_H_
