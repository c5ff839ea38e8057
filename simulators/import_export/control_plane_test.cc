// The control plane over real HTTP on loopback, through the REST client.
#include <cstdlib>

#include "common/http/curl_transport.h"
#include "common/status/http_status.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/import_export/client.h"
#include "simulators/import_export/control_plane.h"

namespace vmb::ie {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    plane_ = std::make_unique<ControlPlane>(ControlPlaneOptions{dir_, "tok"});
    url_ = *plane_->Start();
    transport_ = http::NewCurlTransport();
    client_ = std::make_unique<ImportExportClient>(transport_.get(), url_, "tok");
    account_ = *client_->PutStorageAccount("sub1", "rg1", "seedacct", "westeurope");
  }

  proto::Job NewJob(const std::string& drive) {
    proto::Job j;
    j.set_location("westeurope");
    auto* p = j.mutable_properties();
    p->set_storageaccountid(account_.id());
    p->set_jobtype("Import");
    p->mutable_returnaddress()->set_recipientname("Ops");
    auto* d = p->add_drivelist();
    d->set_driveid(drive);
    d->set_bitlockerkey("002816-008470-014080-019712-025344-030976-036608-042240");
    d->set_manifestfile("\\DriveManifest.xml");
    d->set_manifesthash("109B21108597EF36D5785F08303F3638");
    return j;
  }

  std::string dir_, url_;
  std::unique_ptr<ControlPlane> plane_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::unique_ptr<ImportExportClient> client_;
  proto::StorageAccount account_;
};

TEST_F(ControlPlaneTest, JobLifecycleAndShippingRules) {
  JobRef a{"sub1", "rg1", "seedjob1"}, b{"sub1", "rg1", "seedjob2"};
  absl::StatusOr<proto::Job> created = client_->CreateJob(a, NewJob("D1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->properties().state(), "Creating");
  EXPECT_EQ(created->properties().drivelist(0).state(), "Specified");
  EXPECT_THAT(client_->CreateJob(a, NewJob("D1")), StatusIs(absl::StatusCode::kAborted, HasSubstr("JobAlreadyExists")));
  ASSERT_TRUE(client_->CreateJob(b, NewJob("D2")).ok());
  EXPECT_EQ(client_->ListJobs("sub1")->size(), 2u);
  EXPECT_EQ(client_->ListJobs("other")->size(), 0u);

  proto::Location where = *client_->GetLocation("sub1", "westeurope");
  EXPECT_EQ(where.properties().city(), "Amsterdam");
  EXPECT_THAT(where.properties().supportedcarriers(), ::testing::Contains("DHL"));

  // Shipping needs details first; a tracking number belongs to one job only.
  proto::Job to_shipping;
  to_shipping.mutable_properties()->set_state("Shipping");
  absl::StatusOr<proto::Job> r = client_->UpdateJob(a, to_shipping);
  EXPECT_EQ(AzureErrorCodeOf(r.status()), "MissingShippingDetails");
  proto::Job details;
  details.mutable_properties()->mutable_deliverypackage()->set_carriername("DHL");
  details.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("JD014600003828398821");
  details.mutable_properties()->mutable_deliverypackage()->set_drivecount(1);
  ASSERT_TRUE(client_->UpdateJob(a, details).ok());
  r = client_->UpdateJob(b, details);
  EXPECT_EQ(AzureErrorCodeOf(r.status()), "TrackingNumberInUse");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("seedjob1"));
  EXPECT_EQ(client_->UpdateJob(a, to_shipping)->properties().state(), "Shipping");
  EXPECT_EQ(AzureErrorCodeOf(client_->UpdateJob(a, to_shipping).status()), "InvalidStateTransition");
}

TEST_F(ControlPlaneTest, ErrorsAuthAndPersistence) {
  absl::StatusOr<proto::Job> missing = client_->GetJob({"sub1", "rg1", "nope"});
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(AzureErrorCodeOf(missing.status()), "ResourceNotFound");
  proto::Job bad = NewJob("D1");
  bad.mutable_properties()->set_storageaccountid("/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/ghost");
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "j"}, bad).status()), "StorageAccountNotFound");
  ImportExportClient wrong(transport_.get(), url_, "not-the-token");
  EXPECT_THAT(wrong.ListJobs("sub1"), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("AuthenticationFailed")));

  ASSERT_TRUE(client_->CreateJob({"sub1", "rg1", "kept"}, NewJob("D9")).ok());
  proto::Application app;
  app.set_displayname("AzureOfflineBackup_1234");
  ASSERT_TRUE(client_->CreateApplication(app).ok());
  plane_->Stop();
  plane_ = std::make_unique<ControlPlane>(ControlPlaneOptions{dir_, "tok"});
  url_ = *plane_->Start();
  ImportExportClient again(transport_.get(), url_, "tok");
  EXPECT_EQ(again.GetJob({"sub1", "rg1", "kept"})->properties().drivelist(0).driveid(), "D9");
  EXPECT_FALSE(again.FindApplication("AzureOfflineBackup_1234")->appid().empty());
  EXPECT_THAT(again.FindApplication("other"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace vmb::ie
