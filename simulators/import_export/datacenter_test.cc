// The datacenter with a package of three prepared drives, one of them damaged: the damaged drive ends
// CompletedMoreInfo with its drive logs naming the problem, the others import, and the job goes on as Azure's does
// (Packaging, then Closed after return shipping).
#include "simulators/import_export/datacenter.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/diskprep.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/import_export/testing/control_plane_fixture.h"
#include "simulators/sata/bay_drives.h"
#include "simulators/sata/drive.h"

namespace vmb::ie {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;

constexpr char kJob[] = "seedjob1";

class DatacenterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    auto plane = testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_TRUE(plane.ok()) << plane.status();
    plane_ = std::move(*plane);
    ASSERT_THAT(SimAdmin(plane_->transport(), plane_->url(), plane_->token())
                    .PutStorageAccount("sub-123", "offlinebackup", "seedacct", "westeurope")
                    .status(),
                IsOk());
    std::string src = dir_ + "/src";
    ASSERT_THAT(file::MakeDirs(src), IsOk());
    ASSERT_THAT(file::WriteFileAtomic(src + "/db.bin", crypto::SecureRandom().Bytes(9u << 20), 0644), IsOk());
    staging_ = dir_ + "/staging";
    // Publish settings with a management certificate made by openssl (diskprep reads the subscription from it).
    std::string key = dir_ + "/k.pem", crt = dir_ + "/c.pem", p12 = dir_ + "/m.p12";
    ASSERT_EQ(process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                   crt, "-subj", "/CN=mgmt", "-days", "2"})
                  ->exit_code,
              0);
    ASSERT_EQ(process::RunCommand(
                  {"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:"})
                  ->exit_code,
              0);
    std::string publish = dir_ + "/sub.publishsettings";
    ASSERT_THAT(
        file::WriteFileAtomic(publish,
                              "<PublishData><PublishProfile SchemaVersion=\"2.0\"><Subscription "
                              "Id=\"sub-123\" Name=\"Backup\" ServiceManagementUrl=\"https://management."
                              "core.windows.net\" ManagementCertificate=\"" +
                                  crypto::Base64Encode(*file::ReadFile(p12)) + "\"/></PublishProfile></PublishData>",
                              0600),
        IsOk());
    offline::InitiateOptions io;
    io.job.set_publishsettingspath(publish);
    io.sources = {src};
    io.staging = staging_;
    io.job.set_jobname(kJob);
    io.job.set_subscriptionid("sub-123");
    io.job.set_storageaccount("seedacct");
    io.job.set_container("offline");
    io.image_size = 4u << 20;
    ASSERT_THAT(offline::InitiateOfflineBackup(io).status(), IsOk());
    sata::DriveBay bay(dir_ + "/bay");
    for (const char* name : {"d1", "d2", "d3"}) {
      sata::proto::DriveSpec s;
      s.set_name(name);
      s.set_model(absl::StrCat("Model ", name));
      s.set_serial(absl::StrCat("SN-", name));
      s.set_capacity(24u << 20);  // 7 MiB of data each: the job spans all three
      s.set_interface("sata3");
      s.set_formfactor("2.5");
      s.set_media("ssd");
      ASSERT_THAT(bay.Create(s), IsOk());
    }
    sata::BayDrives drives(dir_ + "/bay");
    offline::DiskPrepOptions o;
    o.staging = staging_;
    o.drive_source = &drives;
    o.drives = {"d1", "d2", "d3"};
    o.control_plane = plane_->url();
    o.token = plane_->token();
    o.kdf_n = 1u << 10;
    o.transport = plane_->transport();
    absl::StatusOr<offline::DiskPrepResult> prepared = offline::PrepareDrives(o);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    ASSERT_EQ(prepared->job.properties().drivelist_size(), 3);
    // Shipped today (the datacenter's side of `diskprep u:`).
    JobRef ref{"sub-123", "offlinebackup", kJob};
    proto::Job job = *plane_->Arm().GetJob(ref);
    job.mutable_properties()->set_state("Shipping");
    job.mutable_properties()->mutable_deliverypackage()->set_carriername("UPS");
    job.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("1Z999AA10123456784");
    job.mutable_properties()->mutable_deliverypackage()->set_shipdate(
        absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()));
    ASSERT_THAT(SimAdmin(plane_->transport(), plane_->url(), plane_->token()).DatacenterUpdate(ref, job).status(),
                IsOk());
  }

  ReceiveOptions Receive(const vmb::testing::Azurite& azurite) {
    ReceiveOptions ro;
    ro.control_plane = plane_->url();
    ro.token = plane_->token();
    ro.subscription = "sub-123";
    ro.job_name = kJob;
    for (const char* d : {"d1", "d2", "d3"}) ro.drive_images.push_back(absl::StrCat(dir_, "/bay/", d, ".img"));
    ro.blob_endpoint = azurite.endpoint();
    ro.transport = plane_->transport();
    return ro;
  }

  // Overwrites the first `bytes` of a drive's image (its volume header).
  void Damage(const std::string& drive, size_t bytes) {
    std::string image = absl::StrCat(dir_, "/bay/", drive, ".img");
    std::string data = *file::ReadFile(image);
    data.replace(0, bytes, std::string(bytes, '\x5a'));
    ASSERT_THAT(file::WriteFileAtomic(image, data, 0644), IsOk());
  }

  // d2 damaged, the others imported; the job Packaging; d2's error log names the problem with the drive status code
  // Microsoft publishes for it.
  void ExpectOnlyD2Failed(const ReceiveResult& r, const vmb::testing::Azurite& azurite,
                          const std::string& code = "BitLockerVolumeNotFound",
                          const std::string& why = "the drive's volume header cannot be read") {
    ASSERT_EQ(r.drives.size(), 3u);
    EXPECT_EQ(r.job.properties().state(), "Packaging");
    for (const proto::DriveStatus& d : r.job.properties().drivelist()) {
      if (d.driveid() == "SN-d2") {
        EXPECT_EQ(d.state(), "CompletedMoreInfo");
        EXPECT_THAT(d.copystatus(), HasSubstr(code + ": " + why));
        EXPECT_THAT(d.copystatus(), HasSubstr("seedagent repair"));
        blob::BlobClient storage(plane_->transport(),
                                 *blob::SharedKeyCredential::Create("devstoreaccount1", blob::kDevAccountKey));
        absl::StatusOr<blob::BlobUri> log = blob::BlobUri::Parse(d.errorloguri());
        ASSERT_TRUE(log.ok()) << log.status();
        absl::StatusOr<std::string> xml = storage.GetBlob(
            blob::BlobUri::ForAccount(azurite.endpoint())->WithContainer(log->container()).WithBlob(log->blob()));
        ASSERT_TRUE(xml.ok()) << xml.status();
        EXPECT_THAT(*xml, HasSubstr("<DriveId>SN-d2</DriveId>"));
        EXPECT_THAT(*xml, HasSubstr("<Status>" + code + "</Status>"));
      } else {
        EXPECT_EQ(d.state(), "Completed") << d.driveid() << ": " << d.copystatus();
      }
    }
    for (const DriveOutcome& d : r.drives) {
      EXPECT_EQ(d.ranges_written > 0, d.drive_id != "SN-d2") << d.drive_id;
    }
    absl::StatusOr<proto::Job> shipped =
        ShipBack({plane_->url(), plane_->token(), "sub-123", "offlinebackup", kJob, plane_->transport()});
    ASSERT_TRUE(shipped.ok()) << shipped.status();
    EXPECT_EQ(shipped->properties().state(), "Closed");  // a drive had errors
  }

  std::string dir_, staging_;
  std::unique_ptr<testing::ControlPlaneFixture> plane_;
};

TEST_F(DatacenterTest, ADriveWithABadVolumeHeaderDoesNotStopThePackage) {
  auto azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  Damage("d2", 4096);
  absl::StatusOr<ReceiveResult> r = ReceivePackage(Receive(**azurite));
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectOnlyD2Failed(*r, **azurite);
  EXPECT_TRUE(r->unidentified.empty());
}

// Unreadable sectors where the header is (an image cut short), and no label: the drive is the one left over.
TEST_F(DatacenterTest, AnUnreadableDriveWithoutALabelIsFoundByElimination) {
  auto azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_EQ(::truncate(absl::StrCat(dir_, "/bay/d2.img").c_str(), 0), 0);
  ASSERT_EQ(::unlink(absl::StrCat(dir_, "/bay/d2.drive.json").c_str()), 0);
  absl::StatusOr<ReceiveResult> r = ReceivePackage(Receive(**azurite));
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectOnlyD2Failed(*r, **azurite);
}

// The header and key are fine but the manifest area cannot be read (the drive ends inside it): ReadManifestFailed.
TEST_F(DatacenterTest, AnUnreadableManifestAreaIsReadManifestFailed) {
  auto azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_EQ(::truncate(absl::StrCat(dir_, "/bay/d2.img").c_str(), (1u << 20) + (64u << 10)), 0);
  absl::StatusOr<ReceiveResult> r = ReceivePackage(Receive(**azurite));
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectOnlyD2Failed(*r, **azurite, "ReadManifestFailed", "the drive's manifest area cannot be read");
}

}  // namespace
}  // namespace vmb::ie
