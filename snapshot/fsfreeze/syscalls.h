// The freeze/thaw system calls behind an interface, so the fsfreeze logic is tested without root.
#ifndef VMBACKUP_SNAPSHOT_FSFREEZE_SYSCALLS_H_
#define VMBACKUP_SNAPSHOT_FSFREEZE_SYSCALLS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time/clock.h"

namespace vmb::snapshot::fsfreeze {

class FreezeSyscalls {
 public:
  virtual ~FreezeSyscalls() = default;
  virtual absl::StatusOr<int> Open(const std::string& mount_point) = 0;
  virtual absl::Status Freeze(int fd, const std::string& mount_point) = 0;  // ioctl(FIFREEZE)
  virtual absl::Status Thaw(int fd, const std::string& mount_point) = 0;    // ioctl(FITHAW)
  virtual void Close(int fd) = 0;
};

// The real ioctls (needs CAP_SYS_ADMIN).
std::unique_ptr<FreezeSyscalls> RealFreezeSyscalls();

// Makes no system call: appends "<unix-ms> freeze <mount>" / "thaw <mount>" lines to `log_path` (opened once,
// before anything is frozen) so rehearsals and tests can see what would happen and when. `fail_mount` makes
// Freeze of that mount fail with EBUSY. The times are `clock`'s.
std::unique_ptr<FreezeSyscalls> DryRunFreezeSyscalls(const std::string& log_path, const std::string& fail_mount = "",
                                                     Clock& clock = RealClock());

// Forwards every call to `inner` and appends "<unix-ms> freeze|thaw <mount>[ failed: ...]" lines to `log_path`
// (opened once, before anything is frozen; keep it off the frozen file systems): the real calls, traced, so an admin
// or a test can see the order and timing on a real VM. The times are `clock`'s.
std::unique_ptr<FreezeSyscalls> TraceFreezeSyscalls(std::unique_ptr<FreezeSyscalls> inner, const std::string& log_path,
                                                    Clock& clock = RealClock());

}  // namespace vmb::snapshot::fsfreeze

#endif  // VMBACKUP_SNAPSHOT_FSFREEZE_SYSCALLS_H_
