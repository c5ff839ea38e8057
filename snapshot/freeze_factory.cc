#include "snapshot/freeze_factory.h"

#include "absl/strings/str_cat.h"

namespace vmb::snapshot {

absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name,
                                                                   const fsfreeze::FsFreezeOptions& fsfreeze) {
  if (name == "none") return std::unique_ptr<FreezeProvider>(new NoFreeze());
  if (name == "fsfreeze") return std::unique_ptr<FreezeProvider>(new fsfreeze::FsFreezeProvider(fsfreeze));
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown freeze provider \"", name, "\"; available: none (crash-consistent), fsfreeze (file-system consistent)"));
}

}  // namespace vmb::snapshot
