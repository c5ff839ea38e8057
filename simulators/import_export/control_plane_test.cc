// The control plane over real HTTP on loopback, through the tools' own client (ArmImportJobClient, DirectoryClient)
// and raw requests for what the client never sends. Microsoft's SDK judges the same surface in
// //tools/azure_sdk_judge:import_export_sdk_e2e_test.
#include "simulators/import_export/control_plane.h"

#include "absl/strings/str_cat.h"
#include "common/status/http_status.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/import_job/arm_call.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/directory_client.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/import_export/testing/control_plane_fixture.h"

namespace vmb::ie {
namespace {

using ::testing::HasSubstr;
using ::vmb::ie::testing::ControlPlaneFixture;
using ::vmb::ie::testing::ControlPlaneFixtureOptions;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    ASSERT_NO_FATAL_FAILURE(Serve(&RealClock()));
    absl::StatusOr<proto::StorageAccount> account =
        SimAdmin(plane_->transport(), plane_->url(), "tok").PutStorageAccount("sub1", "rg1", "seedacct", "westeurope");
    ASSERT_THAT(account.status(), IsOk());
    account_ = *account;
  }

  // (Re)starts the simulator on dir_ with `clock`, and client_ pointed at it.
  void Serve(Clock* clock) {
    plane_.reset();  // one server on the state folder at a time
    ControlPlaneFixtureOptions o;
    o.state_dir = dir_;
    o.clock = clock;
    absl::StatusOr<std::unique_ptr<ControlPlaneFixture>> plane = ControlPlaneFixture::Start(o);
    ASSERT_THAT(plane.status(), IsOk());
    plane_ = std::move(*plane);
    client_ = std::make_unique<ArmImportJobClient>(plane_->Arm());
  }

  proto::Job NewJob(const std::string& drive, int drives = 1) {
    proto::Job j;
    j.set_location("westeurope");
    auto* p = j.mutable_properties();
    p->set_storageaccountid(account_.id());
    p->set_jobtype("Import");
    p->mutable_returnaddress()->set_recipientname("Ops");
    for (int i = 0; i < drives; ++i) {
      auto* d = p->add_drivelist();
      d->set_driveid(i == 0 ? drive : absl::StrCat(drive, "-", i));
      d->set_bitlockerkey("002816-008470-014080-019712-025344-030976-036608-042240");
      d->set_manifestfile("\\DriveManifest.xml");
      d->set_manifesthash("109B21108597EF36D5785F08303F3638");
    }
    return j;
  }

  // A raw call, for what the client never sends (a wrong api-version, a bad body).
  std::pair<int, std::string> Raw(const std::string& method, const std::string& path, const std::string& body = "") {
    http::HttpRequest req;
    req.method = method;
    req.url = plane_->url() + path;
    req.headers = {{"Authorization", "Bearer tok"}, {"Content-Type", "application/json"}};
    req.body = body;
    absl::StatusOr<http::HttpResponse> r = plane_->transport()->Send(req);
    if (!r.ok()) return {0, std::string(r.status().message())};
    return {r->status, r->body};
  }

  std::string dir_;
  std::unique_ptr<ControlPlaneFixture> plane_;
  std::unique_ptr<ArmImportJobClient> client_;
  proto::StorageAccount account_;
};

TEST_F(ControlPlaneTest, JobLifecycleAndShippingRules) {
  JobRef a{"sub1", "rg1", "seedjob1"}, b{"sub1", "rg1", "seedjob2"};
  absl::StatusOr<proto::Job> created = client_->CreateJob(a, NewJob("D1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->properties().state(), "Creating");
  EXPECT_EQ(created->properties().drivelist(0).state(), "Specified");
  EXPECT_EQ(created->properties().drivelist(0).bitlockerkey(), "") << "keys only through listBitLockerKeys";
  // PUT is create or update while Creating.
  absl::StatusOr<proto::Job> replaced = client_->CreateJob(a, NewJob("D1", 2));
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->properties().drivelist_size(), 2);
  ASSERT_TRUE(client_->CreateJob(b, NewJob("D2")).ok());
  EXPECT_EQ(client_->ListJobs("sub1")->size(), 2u);
  EXPECT_EQ(client_->ListJobs("other")->size(), 0u);
  absl::StatusOr<std::vector<proto::DriveBitLockerKey>> keys = client_->ListBitLockerKeys(a);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].driveid(), "D1");
  EXPECT_FALSE((*keys)[0].bitlockerkey().empty());
  EXPECT_EQ(client_->GetJob(a)->properties().drivelist(0).bitlockerkey(), "");

  proto::Location where = *client_->GetLocation("westeurope");
  EXPECT_EQ(where.properties().city(), "Amsterdam");
  EXPECT_EQ(where.id(), "/providers/Microsoft.ImportExport/locations/westeurope");
  EXPECT_THAT(where.properties().supportedcarriers(), ::testing::Contains("DHL"));
  EXPECT_EQ(client_->GetLocation("germanywestcentral")->properties().city(), "Frankfurt");
  EXPECT_EQ(AzureErrorCodeOf(client_->GetLocation("atlantis").status()), "ResourceNotFound");

  // Shipping needs details first; a tracking number belongs to one job only.
  proto::UpdateJobParameters to_shipping;
  to_shipping.mutable_properties()->set_state("Shipping");
  absl::StatusOr<proto::Job> r = client_->UpdateJob(a, to_shipping);
  EXPECT_EQ(AzureErrorCodeOf(r.status()), "MissingShippingDetails");
  proto::UpdateJobParameters details;
  details.mutable_properties()->mutable_deliverypackage()->set_carriername("DHL");
  details.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("JD014600003828398821");
  details.mutable_properties()->mutable_deliverypackage()->set_drivecount(1);
  ASSERT_TRUE(client_->UpdateJob(a, details).ok());
  r = client_->UpdateJob(b, details);
  EXPECT_EQ(AzureErrorCodeOf(r.status()), "TrackingNumberInUse");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("seedjob1"));
  EXPECT_EQ(client_->UpdateJob(a, to_shipping)->properties().state(), "Shipping");
  EXPECT_EQ(AzureErrorCodeOf(client_->UpdateJob(a, to_shipping).status()), "InvalidStateTransition");
  // A Shipping job is no longer replaced by PUT, nor deleted; a Creating one is cancelled and can be deleted.
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob(a, NewJob("D1")).status()), "JobNotUpdatable");
  EXPECT_EQ(Raw("DELETE",
                "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ImportExport/jobs/seedjob1"
                "?api-version=2021-01-01")
                .first,
            400);
  proto::UpdateJobParameters cancel;
  cancel.mutable_properties()->set_cancelrequested(true);
  EXPECT_EQ(client_->UpdateJob(b, cancel)->properties().state(), "Closed");
  EXPECT_EQ(Raw("DELETE",
                "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ImportExport/jobs/seedjob2"
                "?api-version=2021-01-01")
                .first,
            200);
  EXPECT_EQ(client_->ListJobs("sub1")->size(), 1u);
}

// A Shipping job's details may be corrected (one PATCH applies whole or not at all); once the datacenter has the
// package (Received and later) they are refused, and the job keeps what it had.
TEST_F(ControlPlaneTest, ShippingDetailsChangeOnlyWhileCreatingOrShipping) {
  JobRef a{"sub1", "rg1", "seedjob1"};
  ASSERT_THAT(client_->CreateJob(a, NewJob("D1")).status(), IsOk());
  proto::UpdateJobParameters ship;
  auto* pkg = ship.mutable_properties()->mutable_deliverypackage();
  pkg->set_carriername("DHL");
  pkg->set_trackingnumber("JD0146000038");
  pkg->set_drivecount(1);
  ship.mutable_properties()->set_state("Shipping");
  ASSERT_EQ(client_->UpdateJob(a, ship)->properties().state(), "Shipping") << "details and state in one request";
  proto::UpdateJobParameters fix;
  *fix.mutable_properties()->mutable_deliverypackage() = *pkg;
  fix.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("JD0146000039");
  ASSERT_EQ(client_->UpdateJob(a, fix)->properties().deliverypackage().trackingnumber(), "JD0146000039");
  // A half-valid request changes nothing: the state is refused, so the package is not taken either.
  proto::UpdateJobParameters both = fix;
  both.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("JD0146000040");
  both.mutable_properties()->set_state("Shipping");
  EXPECT_EQ(AzureErrorCodeOf(client_->UpdateJob(a, both).status()), "InvalidStateTransition");
  EXPECT_EQ(client_->GetJob(a)->properties().deliverypackage().trackingnumber(), "JD0146000039");
  for (const char* later : {"Received", "Transferring", "Packaging", "Completed", "Closed"}) {
    ASSERT_THAT(plane_->plane().Mutate([&](proto::ServerState& st) {
      st.mutable_jobs(0)->mutable_properties()->set_state(later);
      return absl::OkStatus();
    }),
                IsOk());
    absl::StatusOr<proto::Job> r = client_->UpdateJob(a, fix);
    EXPECT_EQ(AzureErrorCodeOf(r.status()), "JobNotUpdatable") << later;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(absl::StrCat("is ", later))) << later;
    proto::UpdateJobParameters address;
    address.mutable_properties()->mutable_returnaddress()->set_recipientname("Someone else");
    EXPECT_EQ(AzureErrorCodeOf(client_->UpdateJob(a, address).status()), "JobNotUpdatable") << later;
  }
  EXPECT_EQ(client_->GetJob(a)->properties().returnaddress().recipientname(), "Ops");
}

// Seed 004's two weeks count from entering the shipping details, not from the ship date typed: the service keeps
// when they were first entered, and a correction later does not move it.
TEST_F(ControlPlaneTest, TheServiceKeepsWhenShippingDetailsWereFirstEntered) {
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(Serve(&clock));
  SimAdmin admin(plane_->transport(), plane_->url(), "tok");
  JobRef a{"sub1", "rg1", "seedjob1"};
  ASSERT_THAT(client_->CreateJob(a, NewJob("D1")).status(), IsOk());
  EXPECT_EQ(admin.DatacenterGet(a)->shippingenteredunixms(), 0) << "no details yet";
  clock.Advance(absl::Hours(5));
  const absl::Time entered = clock.Now();
  proto::UpdateJobParameters ship;
  auto* pkg = ship.mutable_properties()->mutable_deliverypackage();
  pkg->set_carriername("DHL");
  pkg->set_trackingnumber("JD0146000038");
  pkg->set_shipdate("2099-01-15");  // typed; the rule does not read it
  ASSERT_THAT(client_->UpdateJob(a, ship).status(), IsOk());
  clock.Advance(absl::Hours(24 * 3));
  pkg->set_shipdate("2020-01-15");
  ASSERT_THAT(client_->UpdateJob(a, ship).status(), IsOk());
  absl::StatusOr<proto::DatacenterJob> view = admin.DatacenterGet(a);
  ASSERT_THAT(view.status(), IsOk());
  EXPECT_EQ(view->shippingenteredunixms(), absl::ToUnixMillis(entered));
  EXPECT_EQ(view->job().properties().deliverypackage().shipdate(), "2020-01-15");
  EXPECT_EQ(AzureErrorCodeOf(admin.DatacenterGet(JobRef{"sub1", "rg1", "none"}).status()), "ResourceNotFound");
}

TEST_F(ControlPlaneTest, ArmRulesForBadInput) {
  const std::string jobs = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ImportExport/jobs/j1";
  EXPECT_THAT(Raw("GET", jobs), ::testing::Pair(400, HasSubstr("MissingApiVersionParameter")));
  EXPECT_THAT(Raw("GET", jobs + "?api-version=2016-11-01"),
              ::testing::Pair(400, HasSubstr("InvalidApiVersionParameter")));
  EXPECT_THAT(Raw("GET", "/no/such/route?api-version=2021-01-01"), ::testing::Pair(404, HasSubstr("\"error\"")));
  EXPECT_THAT(Raw("PUT", jobs + "?api-version=2021-01-01", "{not json"),
              ::testing::Pair(400, HasSubstr("InvalidRequestContent")));
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "nodrives"}, NewJob("D", 0)).status()),
            "InvalidDriveCount");
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "eleven"}, NewJob("D", 11)).status()),
            "InvalidDriveCount");
  ASSERT_TRUE(client_->CreateJob({"sub1", "rg1", "ten"}, NewJob("D", 10)).ok());
  for (const char* name :
       {"bad job?x", "1job", "job_under", "j", "a1234567890123456789012345678901234567890123456789012345678901234"}) {
    EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", name}, NewJob("D")).status()), "InvalidResourceName")
        << name;
  }
  EXPECT_THAT(Raw("PUT",
                  "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ImportExport/jobs/a/b"
                  "?api-version=2021-01-01",
                  "{}"),
              ::testing::Pair(400, HasSubstr("InvalidResourceName")));
  proto::Job atlantis = NewJob("D");
  atlantis.set_location("atlantis");
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "atl"}, atlantis).status()),
            "LocationNotAvailableForResourceType");
  proto::Job no_location = NewJob("D");
  no_location.clear_location();
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "j2"}, no_location).status()), "LocationRequired");
}

TEST_F(ControlPlaneTest, ListsArePagedWithNextLink) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->CreateJob({"sub1", "rg1", absl::StrCat("j", i)}, NewJob("D")).ok());
  auto [status, body] =
      Raw("GET", "/subscriptions/sub1/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01&$top=2");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(body, HasSubstr("\"nextLink\""));
  EXPECT_THAT(body, HasSubstr("$skiptoken=2"));
  auto by_group = Raw("GET",
                      "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ImportExport/jobs"
                      "?api-version=2021-01-01&$top=10");
  EXPECT_EQ(by_group.first, 200);
  EXPECT_THAT(by_group.second, Not(HasSubstr("nextLink")));
  EXPECT_EQ(client_->ListJobs("sub1")->size(), 5u);
  EXPECT_THAT(Raw("GET", "/providers/Microsoft.ImportExport/operations?api-version=2021-01-01"),
              ::testing::Pair(200, HasSubstr("Microsoft.ImportExport/jobs/read")));
  EXPECT_THAT(Raw("GET", "/providers/Microsoft.ImportExport/locations?api-version=2021-01-01"),
              ::testing::Pair(200, HasSubstr("Frankfurt")));
}

// Azure's retention: a Creating job left without shipping details goes after two weeks, a Completed or Closed one
// 90 days after it ended; a Shipping job stays. The tools then hear 404.
TEST_F(ControlPlaneTest, CreatingJobsExpireAndEndedJobsAreDeletedAfter90Days) {
  FakeClock clock;
  ASSERT_NO_FATAL_FAILURE(Serve(&clock));
  SimAdmin admin(plane_->transport(), plane_->url(), "tok");
  JobRef idle{"sub1", "rg1", "idle"}, shipped{"sub1", "rg1", "shipped"}, done{"sub1", "rg1", "done"};
  for (const JobRef& r : {idle, shipped, done}) ASSERT_TRUE(client_->CreateJob(r, NewJob(r.name)).ok());
  proto::UpdateJobParameters details;
  details.mutable_properties()->mutable_deliverypackage()->set_carriername("DHL");
  details.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("JD1");
  ASSERT_TRUE(client_->UpdateJob(shipped, details).ok());
  proto::Job finished = *client_->GetJob(done);
  finished.mutable_properties()->set_state("Completed");
  ASSERT_TRUE(admin.DatacenterUpdate(done, finished).ok());

  clock.Advance(absl::Hours(24 * 13));
  EXPECT_TRUE(client_->GetJob(idle).ok());
  clock.Advance(absl::Hours(24 * 2));
  EXPECT_EQ(HttpStatusOf(client_->GetJob(idle).status()).value_or(0), 404) << "Creating for 15 days: expired";
  EXPECT_TRUE(client_->GetJob(shipped).ok());
  EXPECT_TRUE(client_->GetJob(done).ok());
  clock.Advance(absl::Hours(24 * 76));  // 91 days after it ended
  EXPECT_EQ(HttpStatusOf(client_->GetJob(done).status()).value_or(0), 404);
  EXPECT_TRUE(client_->GetJob(shipped).ok()) << "a Shipping job is never expired";
}

TEST_F(ControlPlaneTest, ErrorsAuthAndPersistence) {
  absl::StatusOr<proto::Job> missing = client_->GetJob({"sub1", "rg1", "nope"});
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(AzureErrorCodeOf(missing.status()), "ResourceNotFound");
  proto::Job bad = NewJob("D1");
  bad.mutable_properties()->set_storageaccountid(
      "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/ghost");
  EXPECT_EQ(AzureErrorCodeOf(client_->CreateJob({"sub1", "rg1", "jj"}, bad).status()), "StorageAccountNotFound");
  ArmImportJobClient wrong(plane_->transport(), plane_->url(), "not-the-token");
  EXPECT_THAT(wrong.ListJobs("sub1"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("InvalidAuthenticationToken")));

  ASSERT_TRUE(client_->CreateJob({"sub1", "rg1", "kept"}, NewJob("D9")).ok());
  DirectoryClient directory = plane_->Directory();
  proto::Application app;
  app.set_displayname("AzureOfflineBackup_1234");
  absl::StatusOr<proto::Application> created = directory.CreateApplication(app);
  ASSERT_TRUE(created.ok()) << created.status();
  proto::KeyCredential key;
  key.set_customkeyidentifier("ABCD");
  ASSERT_TRUE(directory.SetKeyCredentials(created->id(), {key}).ok());
  ASSERT_THAT(plane_->Restart(), IsOk());
  ArmImportJobClient again = plane_->Arm();
  EXPECT_EQ(again.GetJob({"sub1", "rg1", "kept"})->properties().drivelist(0).driveid(), "D9");
  DirectoryClient directory_again = plane_->Directory();
  absl::StatusOr<proto::Application> found = directory_again.FindApplication("AzureOfflineBackup_1234");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->appid().empty());
  EXPECT_EQ(found->keycredentials(0).customkeyidentifier(), "ABCD");
  EXPECT_THAT(directory_again.FindApplication("other"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_TRUE(directory_again.DeleteApplication(found->id()).ok());
  EXPECT_THAT(directory_again.FindApplication("AzureOfflineBackup_1234"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace vmb::ie
