// How the extension makes a snapshot consistent: a FreezeProvider quiesces writes before the snapshot calls and
// releases them after. Chosen by --freeze-provider. Thaw must be safe to call when Freeze failed or was never
// called, and more than once.
#ifndef VMBACKUP_SNAPSHOT_FREEZE_H_
#define VMBACKUP_SNAPSHOT_FREEZE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "snapshot/error_codes.h"

namespace vmb::snapshot {

class FreezeProvider {
 public:
  virtual ~FreezeProvider() = default;
  virtual std::string name() const = 0;
  // The consistency a successful Freeze gives.
  virtual Consistency consistency() const = 0;
  // Quiesces writes; must give up within `timeout`. Errors carry an extension code (121/122/123, 300-318).
  virtual absl::Status Freeze(absl::Duration timeout) = 0;
  virtual absl::Status Thaw() = 0;
  // Anything the status should mention about how the freeze went (e.g. a pre-script failure the backup continued
  // past). Read after Thaw.
  virtual std::string notes() const { return ""; }
};

// `none`: no quiescing; snapshots are crash-consistent, and reported as such.
class NoFreeze : public FreezeProvider {
 public:
  std::string name() const override { return "none"; }
  Consistency consistency() const override { return kCrashConsistent; }
  absl::Status Freeze(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Thaw() override { return absl::OkStatus(); }
};

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_FREEZE_H_
