#include "snapshot/freeze_factory.h"

#include "absl/strings/str_cat.h"
#include "snapshot/scripts/scripts_provider.h"

namespace vmb::snapshot {

absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name,
                                                                   const fsfreeze::FsFreezeOptions& fsfreeze,
                                                                   const std::string& script_config) {
  if (name == "none") return std::unique_ptr<FreezeProvider>(new NoFreeze());
  if (name == "fsfreeze") return std::unique_ptr<FreezeProvider>(new fsfreeze::FsFreezeProvider(fsfreeze));
  if (name == "scripts") {
    return std::unique_ptr<FreezeProvider>(new scripts::ScriptsProvider(
        script_config.empty() ? scripts::kDefaultConfig : script_config,
        std::make_unique<fsfreeze::FsFreezeProvider>(fsfreeze)));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown freeze provider \"", name,
                                                 "\"; available: none (crash-consistent), fsfreeze (file-system "
                                                 "consistent), scripts (application-consistent via pre/post scripts)"));
}

}  // namespace vmb::snapshot
