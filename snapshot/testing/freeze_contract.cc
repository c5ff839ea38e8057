#include "snapshot/testing/freeze_contract.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace vmb::snapshot::testing {

void ExpectFreezeContract(const FreezeContract& c) {
  ASSERT_TRUE(c.working || c.failing) << "the contract needs a provider";
  for (const auto* make : {&c.working, &c.failing}) {
    if (!*make) continue;
    std::unique_ptr<FreezeProvider> never = (*make)();
    EXPECT_FALSE(never->name().empty());
    EXPECT_TRUE(never->Thaw().ok()) << never->name() << ": Thaw without a Freeze";
    EXPECT_TRUE(never->Thaw().ok()) << never->name() << ": a second Thaw without a Freeze";
  }
  if (c.working) {
    std::unique_ptr<FreezeProvider> p = c.working();
    const std::string name = p->name();
    ASSERT_TRUE(p->Freeze(absl::Seconds(30)).ok()) << name << ": Freeze";
    EXPECT_TRUE(p->Thaw().ok()) << name << ": Thaw after Freeze";
    EXPECT_TRUE(p->Thaw().ok()) << name << ": a second Thaw";
    EXPECT_TRUE(p->Thaw().ok()) << name << ": a third Thaw";
    EXPECT_EQ(p->name(), name);
    (void)p->notes();  // readable after Thaw
  }
  if (c.failing) {
    std::unique_ptr<FreezeProvider> p = c.failing();
    absl::Time start = absl::Now();
    absl::Status frozen = p->Freeze(absl::Seconds(5));
    EXPECT_FALSE(frozen.ok()) << p->name() << ": the failing provider froze";
    EXPECT_LT(absl::Now() - start, absl::Seconds(5) + absl::Seconds(20))
        << p->name() << ": Freeze outlived its timeout";
    EXPECT_TRUE(p->Thaw().ok()) << p->name() << ": Thaw after a failed Freeze";
    EXPECT_TRUE(p->Thaw().ok()) << p->name() << ": a second Thaw after a failed Freeze";
  }
}

}  // namespace vmb::snapshot::testing
