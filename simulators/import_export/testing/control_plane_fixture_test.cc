// The fixture itself: a simulator that answers its clients with the token, refuses others, and keeps its state
// across a restart.
#include "simulators/import_export/testing/control_plane_fixture.h"

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::ie::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(ControlPlaneFixture, ServesItsClientsAndKeepsStateAcrossARestart) {
  absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> f = ControlPlaneFixture::Start(vmb::testing::PerTestDir());
  ASSERT_THAT(f.status(), IsOk());
  EXPECT_THAT((*f)->url(), StartsWith("http://127.0.0.1:"));
  EXPECT_EQ((*f)->token(), "tok");
  EXPECT_THAT(ArmImportJobClient((*f)->transport(), (*f)->url(), "wrong").ListJobs("sub"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("InvalidAuthenticationToken")));
  proto::Application app;
  app.set_displayname("fixture-app");
  ASSERT_THAT((*f)->Directory().CreateApplication(app).status(), IsOk());

  ASSERT_THAT((*f)->Restart(), IsOk());
  EXPECT_THAT((*f)->Directory().FindApplication("fixture-app").status(), IsOk());
  EXPECT_THAT((*f)->Arm().ListJobs("sub"), IsOk());
}

}  // namespace
}  // namespace vmb::ie::testing
