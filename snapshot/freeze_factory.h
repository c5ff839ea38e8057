// Builds the freeze provider an admin names with --freeze-provider.
#ifndef VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_
#define VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "snapshot/freeze.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"

namespace vmb::snapshot {

// "none" or "fsfreeze" (configured by `fsfreeze`); kInvalidArgument listing the known names otherwise.
// ("vss-sim" lives with the VSS simulator and is wired in-process by tests and benchmarks.)
absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name,
                                                                   const fsfreeze::FsFreezeOptions& fsfreeze = {});

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_
