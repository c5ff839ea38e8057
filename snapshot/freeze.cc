#include "snapshot/freeze.h"

#include "absl/strings/str_cat.h"

namespace vmb::snapshot {

absl::StatusOr<std::unique_ptr<FreezeProvider>> MakeFreezeProvider(const std::string& name) {
  if (name == "none") return std::unique_ptr<FreezeProvider>(new NoFreeze());
  return absl::InvalidArgumentError(
      absl::StrCat("unknown freeze provider \"", name, "\"; available: none (crash-consistent)"));
}

}  // namespace vmb::snapshot
