// The `vss-sim` freeze provider: the snapshot extension's FreezeProvider over the simulated VSS coordinator, so a
// backup is application-consistent for every registered writer.
#ifndef VMBACKUP_SIMULATORS_VSS_VSS_FREEZE_PROVIDER_H_
#define VMBACKUP_SIMULATORS_VSS_VSS_FREEZE_PROVIDER_H_

#include "simulators/vss/vss.h"
#include "snapshot/freeze.h"

namespace vmb::vss {

class VssFreezeProvider : public snapshot::FreezeProvider {
 public:
  explicit VssFreezeProvider(Coordinator* coordinator) : coordinator_(coordinator) {}
  std::string name() const override { return "vss-sim"; }
  snapshot::Consistency consistency() const override { return snapshot::kApplicationConsistent; }
  // Errors carry extension codes: 125 writer in a failed state, 122 writer timeout, 126 a freeze already held,
  // 121 any other writer failure.
  absl::Status Freeze(absl::Duration timeout) override;
  absl::Status Thaw() override { return coordinator_->Thaw(); }

 private:
  Coordinator* coordinator_;
};

}  // namespace vmb::vss

#endif  // VMBACKUP_SIMULATORS_VSS_VSS_FREEZE_PROVIDER_H_
