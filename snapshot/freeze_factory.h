// Builds the freeze provider an admin names with --freeze-provider.
#ifndef VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_
#define VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "snapshot/freeze.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"

namespace vmb::snapshot {

// "none", "fsfreeze" (configured by `fsfreeze`) or "scripts" (pre/post scripts per `script_config`, default
// /etc/azure/VMSnapshotScriptPluginConfig.json, combined with fsfreeze when the config enables it); kInvalidArgument
// listing the known names otherwise. or "vss-sim" (the VSS simulator's writers, reached on the Unix socket
// `vss_socket`).
absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name,
                                                                   const fsfreeze::FsFreezeOptions& fsfreeze = {},
                                                                   const std::string& script_config = "",
                                                                   const std::string& vss_socket = "");

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_FREEZE_FACTORY_H_
