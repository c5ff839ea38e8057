// certgen against the control plane simulator over real HTTP, and its binary's argument handling.
#include "offline_seed/certgen/certgen.h"

#include <sys/stat.h>

#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/directory_client.h"
#include "simulators/import_export/testing/control_plane_fixture.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

class CertGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    absl::StatusOr<std::unique_ptr<ie::testing::ControlPlaneFixture>> plane =
        ie::testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_TRUE(plane.ok()) << plane.status();
    plane_ = std::move(*plane);
    o_.control_plane = plane_->url();
    o_.token = plane_->token();
    o_.user_id = "8f3a2c";
    o_.cert_store = dir_ + "/certs";
    o_.config_dir = dir_ + "/config";
    o_.scratch_dir = dir_ + "/scratch";
    o_.output_dir = dir_;
    o_.transport = plane_->transport();
    o_.clock = &clock_;
  }
  std::string dir_;
  std::unique_ptr<ie::testing::ControlPlaneFixture> plane_;
  FakeClock clock_;
  CertGenOptions o_;
};

TEST_F(CertGenTest, CreateThenReuseThenRegister) {
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->reused);
  std::string xml = *file::ReadFile(r->params_path);
  EXPECT_THAT(xml, HasSubstr("<SubscriptionId>sub-123</SubscriptionId>"));
  EXPECT_THAT(xml, HasSubstr("<ApplicationDisplayName>AzureOfflineBackup_8f3a2c</ApplicationDisplayName>"));
  EXPECT_THAT(xml, HasSubstr("CN=CB_AzureADCertforOfflineSeeding_"));
  struct stat st;
  ASSERT_EQ(::stat((o_.cert_store + "/" + r->thumbprint + ".prv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The directory holds the public certificate under the application.
  ie::proto::Application app = *plane_->Directory().FindApplication("AzureOfflineBackup_8f3a2c");
  ASSERT_EQ(app.keycredentials_size(), 1);
  EXPECT_EQ(app.keycredentials(0).customkeyidentifier(), r->thumbprint);
  // Dated by the injected clock: valid from 5 minutes before its now, for two years.
  EXPECT_EQ(app.keycredentials(0).enddatetime(),
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now() - absl::Minutes(5) + absl::Hours(24 * 365 * 2),
                             absl::UTCTimeZone()));

  absl::StatusOr<CreateResult> again = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->thumbprint, r->thumbprint);

  absl::StatusOr<std::string> reg = AddRegistryEntries(o_, "SUB-123", r->params_path, "seedacct");
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(*reg, o_.scratch_dir + "/OfflineApplicationParams_seedacct.xml");
  EXPECT_THAT(*file::ReadFile(*reg), HasSubstr("<StorageAccountName>seedacct</StorageAccountName>"));
  EXPECT_EQ(*file::ReadFile(o_.config_dir + "/AzureADAppCertThumbprint_8f3a2c"), r->thumbprint + "\n");
  EXPECT_THAT(AddRegistryEntries(o_, "other-sub", r->params_path, "seedacct"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("made for subscription sub-123")));
}

TEST_F(CertGenTest, ExistingApplicationWithOtherCredentialsGetsManualSteps) {
  ie::DirectoryClient client = plane_->Directory();
  ie::proto::Application other;
  other.set_displayname("AzureOfflineBackup_8f3a2c");
  other.add_keycredentials()->set_customkeyidentifier("0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_TRUE(client.CreateApplication(other).ok());
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Upload certificate")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("AzureADAppCertThumbprint_8f3a2c"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(".cer"));
}

TEST(CertGenArgs, WindowsStyleKeys) {
  auto kv = ParseKeyValueArgs({"SubscriptionId:abc", "XMLFILEPATH:C:\\x.xml", "storageAccountName:acct"});
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->at("subscriptionid"), "abc");
  EXPECT_EQ(kv->at("xmlfilepath"), "C:\\x.xml");
  EXPECT_THAT(ParseKeyValueArgs({"SubscriptionId"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Key:Value")));
  EXPECT_THAT(ParseKeyValueArgs({"a:1", "A:2"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  process::CommandResult r = *process::RunCommand({"offline_seed/certgen/certgen", "CreateNewApplication"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("needs SubscriptionId"));
  EXPECT_THAT(r.stderr_data, HasSubstr("usage:"));
}

}  // namespace
}  // namespace vmb::offline
