#include "simulators/vss/vss_freeze_provider.h"

#include "snapshot/error_codes.h"

namespace vmb::vss {

absl::Status VssFreezeProvider::Freeze(absl::Duration) {
  absl::Status s = coordinator_->Freeze();
  if (s.ok()) return s;
  std::string outcome = OutcomeOf(s);
  int code = outcome == kWriterInBadState   ? snapshot::kVssWriterInBadState
             : outcome == kWriterTimeout    ? snapshot::kFreezeTimeout
             : outcome == kFreezeInProgress ? snapshot::kSnapshotInProgress
                                            : snapshot::kFreezeFailed;
  return snapshot::WithCode(s, code);
}

}  // namespace vmb::vss
