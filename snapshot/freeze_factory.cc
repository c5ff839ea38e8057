#include "snapshot/freeze_factory.h"

#include "absl/strings/str_cat.h"
#include "snapshot/scripts/scripts_provider.h"
#include "snapshot/vss_client.h"

namespace vmb::snapshot {

absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name,
                                                                   const fsfreeze::FsFreezeOptions& fsfreeze,
                                                                   const std::string& script_config,
                                                                   const std::string& vss_socket) {
  if (name == "none") return std::unique_ptr<FreezeProvider>(new NoFreeze());
  if (name == "fsfreeze") return std::unique_ptr<FreezeProvider>(new fsfreeze::FsFreezeProvider(fsfreeze));
  if (name == "scripts") {
    return std::unique_ptr<FreezeProvider>(
        new scripts::ScriptsProvider(script_config.empty() ? scripts::kDefaultConfig : script_config,
                                     std::make_unique<fsfreeze::FsFreezeProvider>(fsfreeze)));
  }
  if (name == "vss-sim") {
    return std::unique_ptr<FreezeProvider>(
        new VssSocketFreezeProvider(vss_socket.empty() ? vss_wire::kDefaultSocket : vss_socket));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown freeze provider \"", name,
                   "\"; available: none (crash-consistent), fsfreeze (file-system "
                   "consistent), scripts (application-consistent via pre/post scripts), vss-sim (the VSS simulator)"));
}

}  // namespace vmb::snapshot
