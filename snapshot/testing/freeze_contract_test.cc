// The contract suite on the provider that needs nothing (`none`); the other providers run it in their own tests
// (fsfreeze_test, scripts_test, simulators/vss:vss_test; real_freeze_test on real file systems as root).
#include "snapshot/testing/freeze_contract.h"

#include "gtest/gtest.h"

namespace vmb::snapshot::testing {
namespace {

TEST(NoFreeze, KeepsTheFreezeProviderContract) {
  ExpectFreezeContract({[] { return std::unique_ptr<FreezeProvider>(new NoFreeze()); }, nullptr});
}

}  // namespace
}  // namespace vmb::snapshot::testing
