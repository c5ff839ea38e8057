// The FreezeProvider contract (snapshot/freeze.h) as one suite that every provider's own test runs: Thaw is safe
// when Freeze was never called, after Freeze failed, and more than once after a freeze; a provider keeps its name
// and consistency; Freeze gives up within its timeout.
#ifndef VMBACKUP_SNAPSHOT_TESTING_FREEZE_CONTRACT_H_
#define VMBACKUP_SNAPSHOT_TESTING_FREEZE_CONTRACT_H_

#include <functional>
#include <memory>

#include "snapshot/freeze.h"

namespace vmb::snapshot::testing {

struct FreezeContract {
  // A provider whose Freeze succeeds (null: none can here).
  std::function<std::unique_ptr<FreezeProvider>()> working;
  // A provider whose Freeze fails (null: none can be made to).
  std::function<std::unique_ptr<FreezeProvider>()> failing;
};

// Adds a gtest failure per broken rule.
void ExpectFreezeContract(const FreezeContract& contract);

}  // namespace vmb::snapshot::testing

#endif  // VMBACKUP_SNAPSHOT_TESTING_FREEZE_CONTRACT_H_
