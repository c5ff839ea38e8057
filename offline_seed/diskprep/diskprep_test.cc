// From a source folder through seedagent initiate, certgen and diskprep s: to verified simulated drives and an
// import job in the control plane; then the resume, refusal and bad-input cases.
#include "offline_seed/diskprep/diskprep.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/blob/blob_client.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/http/fault_transport.h"
#include "common/json/json.h"
#include "common/process/subprocess.h"
#include "common/status/http_status.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/certgen/certgen.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/diskprep/diskprep_testing.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/manifest/drive_manifest.h"
#include "offline_seed/repair/repair.h"
#include "offline_seed/testing/initiate_options.h"
#include "offline_seed/volume/encrypted_volume.h"
#include "simulators/faultproxy/fault_proxy.h"
#include "simulators/import_export/datacenter.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/import_export/testing/control_plane_fixture.h"
#include "simulators/sata/bay_drives.h"

namespace vmb::offline {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class DiskPrepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    absl::StatusOr<std::unique_ptr<ie::testing::ControlPlaneFixture>> plane =
        ie::testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_TRUE(plane.ok()) << plane.status();
    plane_ = std::move(*plane);
    url_ = plane_->url();
    transport_ = plane_->transport();
    ie::ArmImportJobClient client(transport_, url_, "tok");
    ie::SimAdmin admin(transport_, url_, "tok");
    ASSERT_TRUE(admin.PutStorageAccount("sub-123", "offlinebackup", "seedacct", "westeurope").ok());

    // certgen prepares the server.
    CertGenOptions cg;
    cg.control_plane = url_;
    cg.token = "tok";
    cg.user_id = "u1";
    cg.cert_store = dir_ + "/certs";
    cg.config_dir = dir_ + "/config";
    cg.scratch_dir = dir_ + "/scratch";
    cg.output_dir = dir_;
    cg.transport = transport_;
    ASSERT_TRUE(file::MakeDirs(dir_).ok());
    absl::StatusOr<CreateResult> app = CreateNewApplication(cg, "sub-123");
    ASSERT_TRUE(app.ok()) << app.status();
    ASSERT_TRUE(AddRegistryEntries(cg, "sub-123", app->params_path, "seedacct").ok());

    // Publish settings with a management certificate made by openssl.
    std::string key = dir_ + "/k.pem", crt = dir_ + "/c.pem", p12 = dir_ + "/m.p12";
    ASSERT_EQ(process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                   crt, "-subj", "/CN=mgmt", "-days", "2"})
                  ->exit_code,
              0);
    ASSERT_EQ(process::RunCommand(
                  {"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:"})
                  ->exit_code,
              0);
    publish_ = dir_ + "/sub.publishsettings";
    ASSERT_TRUE(file::WriteFileAtomic(publish_,
                                      "<PublishData><PublishProfile SchemaVersion=\"2.0\"><Subscription Id=\"sub-123\" "
                                      "Name=\"Backup\" ServiceManagementUrl=\"https://management.core.windows.net\" "
                                      "ManagementCertificate=\"" +
                                          crypto::Base64Encode(*file::ReadFile(p12)) +
                                          "\"/></PublishProfile></PublishData>",
                                      0600)
                    .ok());

    // The agent stages the initial backup.
    std::string src = dir_ + "/src";
    ASSERT_TRUE(file::MakeDirs(src).ok());
    ASSERT_TRUE(file::WriteFileAtomic(src + "/db.bin", crypto::SecureRandom().Bytes(9u << 20), 0644).ok());
    ASSERT_TRUE(file::WriteFileAtomic(src + "/log.txt", std::string(2u << 20, 'x'), 0644).ok());
    staging_ = dir_ + "/staging";
    InitiateOptions io = testing::TestInitiateOptions({src}, staging_, 4u << 20);
    io.job.set_publishsettingspath(publish_);
    absl::StatusOr<proto::ImportJobRecord> initiated = InitiateOfflineBackup(io);
    ASSERT_TRUE(initiated.ok()) << initiated.status();

    bay_ = std::make_unique<sata::DriveBay>(dir_ + "/bay");
    drive_source_ = std::make_unique<sata::BayDrives>(dir_ + "/bay");
    AddDrive("d1", 24u << 20, "sata3", "2.5", "ssd");  // 7 MiB of data area: the job spans two drives
    AddDrive("d2", 64u << 20, "sata2", "3.5", "hdd");
    AddDrive("usb", 64u << 20, "usb", "2.5", "hdd");
    AddDrive("huge", 12'000'000'000'000ull, "sata3", "3.5", "hdd");
  }

  void AddDrive(const std::string& name, uint64_t cap, const std::string& itf, const std::string& ff,
                const std::string& media) {
    sata::proto::DriveSpec s;
    s.set_name(name);
    s.set_model("Model " + name);
    s.set_serial("SN-" + name);
    s.set_capacity(cap);
    s.set_interface(itf);
    s.set_formfactor(ff);
    s.set_media(media);
    ASSERT_THAT(bay_->Create(s), IsOk());
  }

  DiskPrepOptions Options(std::vector<std::string> drives) {
    DiskPrepOptions o;
    o.staging = staging_;
    o.drive_source = drive_source_.get();
    o.drives = std::move(drives);
    o.control_plane = url_;
    o.token = "tok";
    o.kdf_n = 1u << 10;
    o.transport = transport_;
    return o;
  }

  // What the datacenter will do: unlock with the job's password (from BitLockerKeys_List: job answers carry no
  // keys), read the manifest, check every range against it and against the staged bytes.
  uint64_t VerifyLikeTheDatacenter(const std::string& drive_name, const ie::proto::DriveStatus& ds) {
    auto drive = *bay_->Open(drive_name);
    std::string key = ds.bitlockerkey();  // a drive the test describes itself carries its key
    if (key.empty()) {
      ie::ArmImportJobClient service(transport_, url_, "tok");
      absl::StatusOr<std::vector<ie::proto::DriveBitLockerKey>> keys =
          service.ListBitLockerKeys({"sub-123", "offlinebackup", "seedjob1"});
      EXPECT_TRUE(keys.ok()) << keys.status();
      for (const auto& k : keys.value_or(std::vector<ie::proto::DriveBitLockerKey>{})) {
        if (k.driveid() == ds.driveid()) key = k.bitlockerkey();
      }
    }
    auto volume = EncryptedVolume::Unlock(*drive, *crypto::RecoveryPassword::Parse(key));
    EXPECT_TRUE(volume.ok()) << volume.status();
    std::string area;
    EXPECT_TRUE((*volume)->Read(0, kManifestArea, &area).ok());
    area.resize(area.find('\0'));
    proto::DriveContents contents;
    EXPECT_TRUE(json::Parse(area, &contents, "contents").ok());
    EXPECT_EQ(crypto::Base16Encode(crypto::Md5(contents.manifestxml()), true), ds.manifesthash());
    manifest::DriveManifest m = *manifest::Parse(contents.manifestxml());
    EXPECT_EQ(m.drive_id, ds.driveid());
    uint64_t bytes = 0;
    for (const auto& region : contents.regions()) {
      std::string data;
      EXPECT_TRUE((*volume)->Read(region.volumeoffset(), (region.length() + 4095) / 4096 * 4096, &data).ok());
      data.resize(region.length());
      std::string image = staging_ + "/images/" + region.blob().substr(region.blob().rfind('/') + 1);
      EXPECT_TRUE(data == file::ReadFile(image)->substr(region.offset(), region.length())) << region.blob();
      bytes += region.length();
    }
    return bytes;
  }

  // The bytes of every staged image: what the drives must carry between them.
  uint64_t StagedBytes() {
    uint64_t staged = 0;
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<std::string> img = file::ReadFile(absl::StrCat(staging_, "/images/image-000", i, ".vhd"));
      if (img.ok()) staged += img->size();
    }
    return staged;
  }

  // The shipping details committed (diskprep u:) for every drive of the job.
  void Ship(const std::string& carrier, const std::string& tracking, int drives) {
    ShippingOptions so{staging_, url_, "tok", "offlinebackup", transport_};
    ShippingDetails d{carrier, tracking, absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()), drives, {}};
    d.return_address.set_recipientname("Ops");
    d.return_address.set_streetaddress1("Main 1");
    d.return_address.set_city("Utrecht");
    d.return_address.set_postalcode("3511");
    d.return_address.set_countryorregion("NL");
    d.return_address.set_phone("+31 30 000 0000");
    d.return_address.set_email("ops@example.com");
    ASSERT_TRUE(RecordShipping(so, d).ok());
  }

  ie::ReceiveOptions Receive(const vmb::testing::Azurite& azurite, std::vector<std::string> drives) {
    ie::ReceiveOptions ro;
    ro.control_plane = url_;
    ro.token = "tok";
    ro.subscription = "sub-123";
    ro.job_name = "seedjob1";
    for (const std::string& d : drives) ro.drive_images.push_back(dir_ + "/bay/" + d + ".img");
    ro.blob_endpoint = azurite.endpoint();
    ro.transport = transport_;
    return ro;
  }

  // Every imported page blob equals its staged image; returns how many were compared.
  int ExpectImportEqualsStaging(blob::BlobClient& storage, const blob::BlobUri& account) {
    int images = 0;
    for (int i = 0; i < 9; ++i) {
      std::string name = absl::StrCat("image-000", i, ".vhd");
      absl::StatusOr<std::string> staged = file::ReadFile(staging_ + "/images/" + name);
      if (!staged.ok()) continue;
      ++images;
      absl::StatusOr<std::string> imported =
          storage.GetBlob(account.WithContainer("offline").WithBlob("seedjob1/" + name));
      EXPECT_TRUE(imported.ok()) << imported.status();
      if (imported.ok()) {
        EXPECT_TRUE(*imported == *staged) << name;
      }
    }
    return images;
  }

  // 20 deliveries of the same package imported under faults, in process (FaultTransport) or on the wire (the fault
  // proxy in front of Azurite and of the control plane, the client stack being libcurl): each import completes, or
  // fails with an error and completes when run again; the blobs always equal the staged images.
  void ImportSoak(bool through_proxy) {
    absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
    ASSERT_TRUE(azurite.ok()) << azurite.status();
    ASSERT_TRUE(PrepareDrives(Options({"d2"})).ok());
    Ship("DHL", "JD0146000038283988", 1);
    ie::ArmImportJobClient client(transport_, url_, "tok");
    ie::SimAdmin admin(transport_, url_, "tok");
    ie::JobRef ref{"sub-123", "offlinebackup", "seedjob1"};
    blob::BlobClient storage(
        transport_, *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey));
    blob::BlobUri account = *blob::BlobUri::ForAccount((*azurite)->endpoint());
    int completed_first_time = 0, resumed = 0;
    std::map<std::string, int> faults;
    std::unique_ptr<sim::FaultProxy> storage_proxy, plane_proxy;  // one pair for all deliveries
    if (through_proxy) {
      storage_proxy =
          *sim::FaultProxy::Start(absl::StrCat("http://127.0.0.1:", (*azurite)->port()), http::FaultPlan::None());
      plane_proxy = *sim::FaultProxy::Start(url_, http::FaultPlan::None());
    }
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      // A fresh delivery of the package: the job back to Shipping, the account emptied.
      ie::proto::Job job = *client.GetJob(ref);
      job.mutable_properties()->set_state("Shipping");
      ASSERT_TRUE(admin.DatacenterUpdate(ref, job).ok());
      (void)storage.DeleteContainer(account.WithContainer("offline"));
      const http::FaultPlan plan{seed, 0.02, 0.02, 0.02, 0.01, 0, 0.005, 0.02};
      ie::ReceiveOptions ro = Receive(**azurite, {"d2"});
      std::unique_ptr<http::FaultTransport> faulty;
      if (through_proxy) {
        http::FaultPlan storage_plan = plan;
        storage_plan.stall = 0.01;  // ~1 in 100 storage calls hangs past the client's 2 s timeout
        storage_plan.stall_for = absl::Seconds(3);
        storage_proxy->SetPlan(storage_plan);
        ro.request_timeout = absl::Seconds(2);
        http::FaultPlan plane_plan = plan;
        plane_plan.seed += 1000;
        plane_proxy->SetPlan(plane_plan);
        ro.blob_endpoint = storage_proxy->Rewrite(ro.blob_endpoint);
        ro.control_plane = plane_proxy->Rewrite(ro.control_plane);
      } else {
        faulty = std::make_unique<http::FaultTransport>(transport_, plan);
        ro.transport = faulty.get();
      }
      absl::StatusOr<ie::ReceiveResult> r = ie::ReceivePackage(ro);
      for (const auto& injected : std::vector<std::map<std::string, int>>{
               faulty ? faulty->injected() : std::map<std::string, int>{},
               storage_proxy ? storage_proxy->injected() : std::map<std::string, int>{},
               plane_proxy ? plane_proxy->injected() : std::map<std::string, int>{}}) {
        for (const auto& [kind, n] : injected) faults[kind] += n;
      }
      if (r.ok()) {
        ++completed_first_time;
      } else {
        ++resumed;
        absl::StatusOr<ie::ReceiveResult> again = ie::ReceivePackage(Receive(**azurite, {"d2"}));
        ASSERT_TRUE(again.ok()) << "seed " << seed << ": " << r.status() << " then " << again.status();
        r = again;
      }
      EXPECT_EQ(r->job.properties().state(), "Packaging") << "seed " << seed;
      EXPECT_EQ(client.GetJob(ref)->properties().state(), "Packaging") << "seed " << seed;
      EXPECT_GE(ExpectImportEqualsStaging(storage, account), 2) << "seed " << seed;
    }
    int total = 0;
    std::string kinds;
    for (const auto& [kind, n] : faults) {
      total += n;
      absl::StrAppend(&kinds, " ", kind, " x", n, ";");
    }
    std::printf(
        "20 imports (seeds 1-20, %s): %d completed through the faults, %d failed cleanly and completed when "
        "resumed; %d faults injected:%s\n",
        through_proxy ? "fault proxy on the wire" : "in-process transport", completed_first_time, resumed, total,
        kinds.c_str());
    EXPECT_GT(total, 20);
  }

  // The first MiB of a drive as it is on the medium, to show it was not written.
  std::string ReadDriveStart(const std::string& name) {
    std::unique_ptr<io::BlockDevice> raw = *bay_->Open(name);
    std::string out;
    EXPECT_THAT(raw->Read(0, 1 << 20, &out), IsOk());
    return out;
  }

  // Jobs_Delete of the staged job (allowed while it is Creating).
  void DeleteJob() {
    http::HttpRequest req;
    req.method = "DELETE";
    req.url = absl::StrCat(url_, "/subscriptions/sub-123/resourceGroups/offlinebackup/providers/",
                           "Microsoft.ImportExport/jobs/seedjob1?api-version=", ie::kApiVersion);
    req.headers = {{"Authorization", "Bearer tok"}};
    absl::StatusOr<http::HttpResponse> r = transport_->Send(req);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->status == 200 || r->status == 204) << r->status << " " << r->body;
  }

  std::string dir_, url_, staging_, publish_;
  std::unique_ptr<ie::testing::ControlPlaneFixture> plane_;
  http::HttpTransport* transport_ = nullptr;
  std::unique_ptr<sata::DriveBay> bay_;
  std::unique_ptr<sata::BayDrives> drive_source_;
};

TEST_F(DiskPrepTest, SourceToVerifiedDrivesAndImportJob) {
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"d1", "d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->drives.size(), 2u);
  EXPECT_EQ(r->job.properties().state(), "Creating");
  ASSERT_EQ(r->job.properties().drivelist_size(), 2);
  EXPECT_EQ(r->location.properties().city(), "Amsterdam");
  // The job names each drive by its hardware serial (IDENTIFY), with the hash of the header diskprep wrote.
  EXPECT_EQ(r->job.properties().drivelist(0).driveid(), "SN-d1");
  EXPECT_EQ(r->job.properties().drivelist(1).driveid(), "SN-d2");
  for (int i = 0; i < 2; ++i) {
    auto raw = *bay_->Open(i == 0 ? "d1" : "d2");
    EXPECT_EQ(r->job.properties().drivelist(i).driveheaderhash(), DriveHeaderHash(*ReadVolumeHeader(*raw)));
  }
  uint64_t shipped = 0;
  for (int i = 0; i < 2; ++i)
    shipped += VerifyLikeTheDatacenter(i == 0 ? "d1" : "d2", r->job.properties().drivelist(i));
  const uint64_t staged = StagedBytes();
  EXPECT_EQ(shipped, staged) << "every staged byte is on exactly one drive";
  // Re-running finds everything done and the job already created.
  absl::StatusOr<DiskPrepResult> again = PrepareDrives(Options({"d1", "d2"}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->resumed);
  EXPECT_EQ(again->job.properties().drivelist(0).driveid(), r->job.properties().drivelist(0).driveid());
}

// The job is created once every staged range is on a verified drive, so a drive chosen after that is not needed:
// it is refused before it is formatted (it was formatted, filled and left out of the job, which was adopted
// silently), and a job of the same name from another server is refused before any drive is formatted.
TEST_F(DiskPrepTest, ADriveChosenAfterTheJobExistsIsRefusedBeforeItIsFormatted) {
  ASSERT_THAT(PrepareDrives(Options({"d2"})), IsOk());
  const std::string untouched = ReadDriveStart("d1");
  EXPECT_THAT(PrepareDrives(Options({"d1"})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("the import job seedjob1 was already created from this staging location (state "
                                       "Creating) and its drive SN-d2 holds all the staged data; drive d1 (SN-d1) is "
                                       "not in it and nothing was written to it"),
                             HasSubstr("diskprep u: --cancel"))));
  EXPECT_EQ(ReadDriveStart("d1"), untouched);
  EXPECT_THAT(PrepareDrives(Options({"d2", "d1"})), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReadDriveStart("d1"), untouched);
  EXPECT_THAT(PrepareDrives(Options({"d2"})), IsOk()) << "the job's own drive: resumed, the job adopted";

  // Another server's job of the same name: refused before d1 is formatted.
  DeleteJob();
  std::filesystem::remove_all(staging_ + "/diskprep");
  ie::ArmImportJobClient client(transport_, url_, "tok");
  ie::proto::Job other;
  other.set_location("westeurope");
  (*other.mutable_tags())[kItemTag] = "another-server";
  other.mutable_properties()->set_storageaccountid(
      "/subscriptions/sub-123/resourceGroups/offlinebackup/providers/Microsoft.Storage/storageAccounts/seedacct");
  other.mutable_properties()->set_jobtype("Import");
  auto* their_drive = other.mutable_properties()->add_drivelist();
  their_drive->set_driveid("OTHER");
  their_drive->set_bitlockerkey("111111-111111-111111-111111-111111-111111-111111-111111");
  ASSERT_THAT(client.CreateJob(ie::JobRef{"sub-123", "offlinebackup", "seedjob1"}, other), IsOk());
  EXPECT_THAT(PrepareDrives(Options({"d1"})),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("was not prepared from this staging location (another server uses that name); no "
                                 "drive was formatted")));
  EXPECT_EQ(ReadDriveStart("d1"), untouched);
}

// A small drive fills up while the big one still copies: the ranges the small one had read ahead go back and the
// big one takes them, even when it had found the queue empty and stopped meanwhile (found by the offline flow e2e
// test as "the chosen drives are full; 0.00 GB remain"). Several runs, since which drive stops first is timing.
TEST_F(DiskPrepTest, RangesADriveCouldNotTakeGoToTheOneWithRoom) {
  const uint64_t staged = StagedBytes();
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    std::string small = absl::StrCat("small", i), big = absl::StrCat("big", i);
    // The small one has room for one 4 MiB range (its data area starts at 17 MiB), so it fills up as the queue
    // empties.
    AddDrive(small, (21u << 20) + (i % 3) * (1u << 20), "sata3", "2.5", "ssd");
    AddDrive(big, 4 * staged + (64u << 20), "sata3", "3.5", "hdd");
    std::filesystem::remove_all(staging_ + "/diskprep");  // a new preparation, for a new job
    DeleteJob();
    absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({small, big}));
    ASSERT_TRUE(r.ok()) << r.status();
    uint64_t shipped = 0;
    for (const PreparedDrive& p : r->drives) {
      ie::proto::DriveStatus d;
      d.set_driveid(p.drive_id);
      d.set_bitlockerkey(p.recovery_password);
      d.set_manifesthash(p.manifest_md5);
      shipped += VerifyLikeTheDatacenter(p.name, d);
    }
    EXPECT_EQ(shipped, staged);
  }
}

TEST_F(DiskPrepTest, PulledDriveResumesFromTheJournal) {
  sata::proto::DriveSpec d2 = *bay_->Get("d2");
  d2.set_pullafterbytes(3u << 20);
  ASSERT_THAT(bay_->Update(d2), IsOk());
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"d2"}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("run the same command again")));
  // Reattached: the same command resumes; what the journal acknowledged is not copied again.
  d2 = *bay_->Get("d2");
  d2.set_pullafterbytes(0);
  d2.set_attached(true);
  ASSERT_THAT(bay_->Update(d2), IsOk());
  r = PrepareDrives(Options({"d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->resumed);
  VerifyLikeTheDatacenter("d2", r->job.properties().drivelist(0));
  std::string journal = *file::ReadFile(staging_ + "/diskprep/d2.journal");
  std::map<std::string, int> seen;
  for (const auto& line : absl::StrSplit(journal, '\n', absl::SkipEmpty())) {
    proto::DiskPrepRecord rec;
    ASSERT_TRUE(json::Parse(line.substr(33), &rec, "record").ok());
    if (rec.step() == "range") {
      EXPECT_EQ(++seen[absl::StrCat(rec.blob(), "@", rec.offset())], 1);
    }
  }
}

TEST_F(DiskPrepTest, BadSectorsRejectTheDriveAndItsRangesGoElsewhere) {
  AddDrive("bad", 64u << 20, "sata3", "2.5", "ssd");
  sata::proto::DriveSpec bad = *bay_->Get("bad");
  auto* range = bad.add_badranges();
  range->set_firstlba((20u << 20) / 512);  // inside the data area, after a few ranges were written
  range->set_count(64);
  ASSERT_THAT(bay_->Update(bad), IsOk());
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"bad", "d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_THAT(r->rejected[0], HasSubstr("I/O error"));
  ASSERT_EQ(r->job.properties().drivelist_size(), 1);
  uint64_t shipped = VerifyLikeTheDatacenter("d2", r->job.properties().drivelist(0));
  const uint64_t staged = StagedBytes();
  EXPECT_EQ(shipped, staged);
}

// A drive that returns wrong data without an error (a few sectors in the data area, away from the capacity probe's
// markers): only the verify pass, which checks every range's MD5, finds it; it is rejected and its ranges go to the
// other drive.
TEST_F(DiskPrepTest, SilentlyCorruptingDriveIsFoundByTheVerifyPass) {
  AddDrive("rot", 64u << 20, "sata3", "2.5", "ssd");
  sata::proto::DriveSpec rot = *bay_->Get("rot");
  auto* range = rot.add_silentranges();
  range->set_firstlba(((20u << 20) + (64u << 10)) / 512);
  range->set_count(16);
  ASSERT_THAT(bay_->Update(rot), IsOk());
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"rot", "d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_THAT(r->rejected[0], HasSubstr("rot"));
  EXPECT_THAT(r->rejected[0], HasSubstr("does not match its MD5"));
  ASSERT_EQ(r->job.properties().drivelist_size(), 1);
  EXPECT_EQ(VerifyLikeTheDatacenter("d2", r->job.properties().drivelist(0)), StagedBytes());
}

// A counterfeit drive: it reports 64 MiB but keeps 20 (writes past that wrap around and overwrite its start). The
// capacity probe before formatting finds it; it is rejected and the job goes to the honest drive.
TEST_F(DiskPrepTest, CounterfeitDriveIsFoundBeforeDataIsTrustedToIt) {
  AddDrive("fake", 64u << 20, "sata3", "2.5", "ssd");
  sata::proto::DriveSpec fake = *bay_->Get("fake");
  fake.set_realcapacity(20u << 20);
  ASSERT_THAT(bay_->Update(fake), IsOk());
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"fake", "d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_THAT(r->rejected[0], HasSubstr("counterfeit"));
  ASSERT_EQ(r->job.properties().drivelist_size(), 1);
  uint64_t shipped = VerifyLikeTheDatacenter("d2", r->job.properties().drivelist(0));
  const uint64_t staged = StagedBytes();
  EXPECT_EQ(shipped, staged);
}

// Alone, a counterfeit drive is reported by name and by what it really holds, never as "the chosen drives are full"
// (issue 18); with return_when_full (the dialogue) the run returns what remains and the rejection instead, and no job.
TEST_F(DiskPrepTest, ACounterfeitDriveAloneIsNamedWithItsReasonNotFull) {
  AddDrive("fake", 64u << 20, "sata3", "2.5", "ssd");
  sata::proto::DriveSpec fake = *bay_->Get("fake");
  fake.set_realcapacity(20u << 20);
  ASSERT_THAT(bay_->Update(fake), IsOk());
  EXPECT_THAT(
      PrepareDrives(Options({"fake"})),
      StatusIs(absl::StatusCode::kResourceExhausted,
               ::testing::AllOf(HasSubstr("drive fake (serial SN-fake) is counterfeit: it holds at most 23.1 MB "
                                          "(23064576 bytes) of the 67.1 MB (67108864 bytes) it claims"),
                                HasSubstr("use another drive"), ::testing::Not(HasSubstr("full")))));
  std::filesystem::remove_all(staging_ + "/diskprep");  // (its journal says rejected: a new run would skip it)
  DiskPrepOptions dialogue = Options({"fake"});
  dialogue.return_when_full = true;
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(dialogue);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->remaining_bytes, StagedBytes());
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_THAT(RejectionReason(r->rejected[0]), ::testing::StartsWith("drive fake (serial SN-fake) is counterfeit"));
  EXPECT_TRUE(r->job.name().empty());
}

// A write-protected drive (a read-only target): refused with its name and the way out, nothing journaled as
// prepared, and the same command succeeds once the protection is off.
TEST_F(DiskPrepTest, WriteProtectedDriveIsRefusedAndTheRunResumesWhenItIsOff) {
  sata::proto::DriveSpec d2 = *bay_->Get("d2");
  d2.set_writeprotected(true);
  ASSERT_THAT(bay_->Update(d2), IsOk());
  EXPECT_THAT(PrepareDrives(Options({"d2"})),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("d2 (serial SN-d2) is write-protected")));
  EXPECT_FALSE(file::ReadFile(staging_ + "/diskprep/d2.recovery-password").ok());
  d2.set_writeprotected(false);
  ASSERT_THAT(bay_->Update(d2), IsOk());
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  VerifyLikeTheDatacenter("d2", r->job.properties().drivelist(0));
}

// Cancelling while the job is Creating (the drives not shipped): Azure closes the job; nothing on this side is lost.
TEST_F(DiskPrepTest, AJobIsCancelledWhileCreating) {
  absl::StatusOr<DiskPrepResult> r = PrepareDrives(Options({"d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ShippingOptions so{staging_, url_, "tok", "offlinebackup", transport_};
  absl::StatusOr<ie::proto::Job> cancelled = CancelJob(so);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->properties().state(), "Closed");
  EXPECT_TRUE(cancelled->properties().cancelrequested());
  EXPECT_TRUE(file::ReadFile(staging_ + "/catalogue.json").ok()) << "the staging location is kept";
}

TEST_F(DiskPrepTest, ShippingDetailsMoveTheJobToShipping) {
  ASSERT_TRUE(PrepareDrives(Options({"d2"})).ok());
  ShippingOptions so{staging_, url_, "tok", "offlinebackup", transport_};
  // The tracking number as typed: lower case, spaces; sent as carriers print it.
  ShippingDetails d = diskprep_testing::UtrechtShipping("jd0146 00003828398821 ",
                                                        absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()));

  ShippingDetails wrong = d;
  wrong.carrier = "Pony Express";
  EXPECT_THAT(RecordShipping(so, wrong), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DHL, FedEx")));
  wrong = d;
  wrong.drive_count = 3;
  EXPECT_THAT(RecordShipping(so, wrong), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("different jobs")));
  for (const char* date : {"2020-01-15", "2099-01-01"}) {  // long past, far ahead: the two-week rule
    wrong = d;
    wrong.ship_date = date;
    EXPECT_THAT(RecordShipping(so, wrong), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two weeks")))
        << date;
  }
  wrong = d;
  wrong.return_address.clear_email();
  EXPECT_THAT(RecordShipping(so, wrong), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("email")));
  // A tracking number already used by another job is refused by the service.
  ie::ArmImportJobClient client(transport_, url_, "tok");
  ie::SimAdmin admin(transport_, url_, "tok");
  ie::proto::Job other;
  other.set_location("westeurope");
  other.mutable_properties()->set_storageaccountid(
      client.GetStorageAccount("sub-123", "offlinebackup", "seedacct")->id());
  other.mutable_properties()->set_jobtype("Import");
  auto* other_drive = other.mutable_properties()->add_drivelist();
  other_drive->set_driveid("OTHER-1");
  other_drive->set_bitlockerkey("002816-008470-014080-019712-025344-030976-036608-042240");
  ASSERT_TRUE(client.CreateJob({"sub-123", "offlinebackup", "otherjob"}, other).ok());
  ie::proto::UpdateJobParameters patch;
  patch.mutable_properties()->mutable_deliverypackage()->set_trackingnumber("USED-123456");
  ASSERT_TRUE(client.UpdateJob({"sub-123", "offlinebackup", "otherjob"}, patch).ok());
  wrong = d;
  wrong.tracking_number = "used-123456 ";  // the same number as typed another way
  absl::StatusOr<ShippingResult> used = RecordShipping(so, wrong);
  EXPECT_THAT(used, StatusIs(absl::StatusCode::kAborted, HasSubstr("TrackingNumberInUse")));

  absl::StatusOr<ShippingResult> r = RecordShipping(so, d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job.properties().state(), "Shipping");
  struct stat st;
  ASSERT_EQ(::stat(r->details_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string status = *JobStatusText(so);
  EXPECT_THAT(status, HasSubstr("Shipping"));
  EXPECT_THAT(status, HasSubstr("JD014600003828398821"));
  EXPECT_THAT(status, HasSubstr("Specified"));
}

// The package reaches the datacenter: drives unlocked with the job's passwords, every range checked and written
// into page blobs in a real Azurite, drive logs written, states advanced; the blobs equal the staged images.
TEST_F(DiskPrepTest, DatacenterImportsTheDrivesIntoStorage) {
  absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_TRUE(PrepareDrives(Options({"d1", "d2"})).ok());
  ShippingOptions so{staging_, url_, "tok", "offlinebackup", transport_};
  ie::ReceiveOptions ro;
  ro.control_plane = url_;
  ro.token = "tok";
  ro.subscription = "sub-123";
  ro.job_name = "seedjob1";
  ro.drive_images = {dir_ + "/bay/d1.img", dir_ + "/bay/d2.img"};
  ro.blob_endpoint = (*azurite)->endpoint();
  ro.transport = transport_;
  EXPECT_THAT(ie::ReceivePackage(ro), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not Shipping")));

  ShippingDetails d;
  d.carrier = "UPS";
  d.tracking_number = "1Z999AA10123456784";
  d.ship_date = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  d.drive_count = 2;
  auto* a = &d.return_address;
  a->set_recipientname("Ops");
  a->set_streetaddress1("Main 1");
  a->set_city("Utrecht");
  a->set_postalcode("3511");
  a->set_countryorregion("NL");
  a->set_phone("+31 30 000 0000");
  a->set_email("ops@example.com");
  ASSERT_TRUE(RecordShipping(so, d).ok());

  ie::ReceiveOptions late = ro;
  FakeClock late_clock(absl::Now() + absl::Hours(24 * 15));
  late.clock = &late_clock;
  EXPECT_THAT(ie::ReceivePackage(late), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                 HasSubstr("days after the shipping details were entered (" +
                                                           d.ship_date + "); the limit is 14 days")));

  absl::StatusOr<ie::ReceiveResult> r = ie::ReceivePackage(ro);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job.properties().state(), "Packaging");
  ASSERT_EQ(r->drives.size(), 2u);
  for (const auto& drive : r->drives) {
    EXPECT_EQ(drive.state, "Completed") << drive.error;
    EXPECT_EQ(drive.ranges_corrupted, 0);
  }
  EXPECT_EQ(r->job.properties().drivelist(0).state(), "Completed");
  EXPECT_FALSE(r->job.properties().drivelist(0).verboseloguri().empty());
  // Return shipping: a clean import ends Completed, its drives ShippedBack.
  ie::ShipBackOptions back{url_, "tok", "sub-123", "offlinebackup", "seedjob1", transport_};
  absl::StatusOr<ie::proto::Job> returned = ie::ShipBack(back);
  ASSERT_TRUE(returned.ok()) << returned.status();
  EXPECT_EQ(returned->properties().state(), "Completed");
  EXPECT_EQ(returned->properties().drivelist(0).state(), "ShippedBack");
  EXPECT_THAT(ie::ShipBack(back), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not Packaging")));
  EXPECT_EQ(AzureErrorCodeOf(CancelJob(so).status()), "InvalidStateTransition") << "too late to cancel";

  // The page blobs hold exactly the staged images.
  blob::BlobClient storage(
      transport_, *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey));
  blob::BlobUri account = *blob::BlobUri::ForAccount((*azurite)->endpoint());
  EXPECT_GE(ExpectImportEqualsStaging(storage, account), 2);
  blob::ListOptions lo;
  lo.prefix = "waies/seedjob1_";
  EXPECT_EQ(storage.ListBlobs(account.WithContainer("waimportexport"), lo)->size(), 4u);  // error + verbose per drive
}

// A damaged range is reported (drive log: blob, offset, Corrupted) and never written.
// A drive whose header is not the one the job describes (another drive, or one formatted again after the job was
// made) is refused by the datacenter: nothing of it is written to the account.
TEST_F(DiskPrepTest, DatacenterRefusesADriveWhoseHeaderDoesNotMatchTheJob) {
  absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_TRUE(PrepareDrives(Options({"d2"})).ok());
  Ship("DHL", "JD0146000038283990", 1);
  ie::ArmImportJobClient client(transport_, url_, "tok");
  ie::SimAdmin admin(transport_, url_, "tok");
  ie::JobRef ref{"sub-123", "offlinebackup", "seedjob1"};
  ie::proto::Job job = *client.GetJob(ref);
  job.mutable_properties()->mutable_drivelist(0)->set_driveheaderhash(std::string(64, '0'));
  ASSERT_TRUE(admin.DatacenterUpdate(ref, job).ok());
  absl::StatusOr<ie::ReceiveResult> r = ie::ReceivePackage(Receive(**azurite, {"d2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->drives.size(), 1u);
  EXPECT_EQ(r->drives[0].state, "CompletedMoreInfo");
  EXPECT_EQ(r->drives[0].error, "DriveHeaderHashMismatch");
  EXPECT_EQ(r->drives[0].ranges_written, 0);
}

TEST_F(DiskPrepTest, DatacenterReportsCorruptedRangesAndNeverWritesThem) {
  absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_TRUE(PrepareDrives(Options({"d2"})).ok());
  Ship("FedEx", "794698765432", 1);
  // Flip a byte inside the second range's data on the drive (the data area starts after the 1 MiB header and the
  // 16 MiB manifest area; ranges are 4 MiB).
  std::string image = dir_ + "/bay/d2.img";
  std::string bytes = *file::ReadFile(image);
  bytes[(1u << 20) + kManifestArea + (4u << 20) + 1000] ^= 0x01;
  ASSERT_TRUE(file::WriteFileAtomic(image, bytes, 0644).ok());
  ie::ReceiveOptions ro = Receive(**azurite, {"d2"});
  absl::StatusOr<ie::ReceiveResult> r = ie::ReceivePackage(ro);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->drives.size(), 1u);
  EXPECT_EQ(r->drives[0].state, "CompletedMoreInfo");
  EXPECT_EQ(r->drives[0].ranges_corrupted, 1);
  blob::BlobClient storage(
      transport_, *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey));
  blob::BlobUri account = *blob::BlobUri::ForAccount((*azurite)->endpoint());
  blob::ListOptions lo;
  lo.prefix = "waies/";
  auto logs = *storage.ListBlobs(account.WithContainer("waimportexport"), lo);
  std::string error_log;
  for (const auto& l : logs) {
    if (absl::EndsWith(l.name, "_error.xml"))
      error_log = *storage.GetBlob(account.WithContainer("waimportexport").WithBlob(l.name));
  }
  EXPECT_THAT(error_log, HasSubstr("Status=\"Corrupted\""));
  EXPECT_THAT(error_log, HasSubstr("<BlobPath>offline/seedjob1/image-0001.vhd</BlobPath>"));  // the drive's 2nd range
  // The corrupted range was not written: the blob holds zeros there, not the damaged bytes.
  absl::StatusOr<std::string> head =
      storage.GetBlob(account.WithContainer("offline").WithBlob("seedjob1/image-0001.vhd"), blob::ByteRange{0, 4096});
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, std::string(4096, '\0'));
  EXPECT_NE(file::ReadFile(staging_ + "/images/image-0001.vhd")->substr(0, 4096), std::string(4096, '\0'));

  // The repair step re-sends only that range, from the staging location; it needs no return shipping (the job is
  // still Packaging), and after it the job, shipped back, is Closed: it had errors.
  EXPECT_EQ(ie::ArmImportJobClient(transport_, url_, "tok")
                .GetJob({"sub-123", "offlinebackup", "seedjob1"})
                ->properties()
                .state(),
            "Packaging");
  RepairOptions rep{staging_, url_, "tok", "offlinebackup", &storage, account, transport_};
  absl::StatusOr<RepairResult> repaired = RepairImport(rep);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->ranges_resent, 1);
  EXPECT_EQ(repaired->drives.size(), 1u);
  EXPECT_GE(ExpectImportEqualsStaging(storage, account), 2);
  absl::StatusOr<ie::proto::Job> closed =
      ie::ShipBack({url_, "tok", "sub-123", "offlinebackup", "seedjob1", transport_});
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->properties().state(), "Closed");
  // Repair still works from the returned drives' logs (ShippedBack keeps the copy status).
  absl::StatusOr<RepairResult> again = RepairImport(rep);
  ASSERT_TRUE(again.ok()) << again.status();
}

// A drive the datacenter cannot unlock (wrong recovery password in the job) and a drive missing from the package
// are reported per drive; the repair step sends all of their ranges from the staging location.
TEST_F(DiskPrepTest, WrongPasswordAndMissingDriveAreRepairedOverTheNetwork) {
  absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  ASSERT_TRUE(PrepareDrives(Options({"d1", "d2"})).ok());
  Ship("UPS", "1Z999AA10123456799", 2);
  ie::ArmImportJobClient client(transport_, url_, "tok");
  ie::SimAdmin admin(transport_, url_, "tok");
  ie::JobRef ref{"sub-123", "offlinebackup", "seedjob1"};
  ie::proto::Job job = *client.GetJob(ref);
  job.mutable_properties()->mutable_drivelist(0)->set_bitlockerkey(
      crypto::RecoveryPassword::Generate(crypto::SecureRandom()).ToString());
  ASSERT_TRUE(admin.DatacenterUpdate(ref, job).ok());

  absl::StatusOr<ie::ReceiveResult> r = ie::ReceivePackage(Receive(**azurite, {"d1"}));  // d2 stayed behind
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->drives.size(), 2u);
  EXPECT_EQ(r->drives[0].state, "CompletedMoreInfo");
  EXPECT_EQ(r->drives[0].error, "BitLockerKeyInvalid");
  EXPECT_EQ(r->drives[1].state, "NeverReceived");
  EXPECT_EQ(r->job.properties().drivelist(1).state(), "NeverReceived");

  blob::BlobClient storage(
      transport_, *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey));
  blob::BlobUri account = *blob::BlobUri::ForAccount((*azurite)->endpoint());
  RepairOptions rep{staging_, url_, "tok", "offlinebackup", &storage, account, transport_};
  absl::StatusOr<RepairResult> repaired = RepairImport(rep);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->drives.size(), 2u);
  EXPECT_GT(repaired->ranges_resent, 1);
  EXPECT_GE(ExpectImportEqualsStaging(storage, account), 2);
}

// 20 imports of the same package through a transport that injects resets, 503s, 500s, 403s and truncated bodies
// (seeds 1..20). Each import either completes, and then every blob equals its staged image, or fails with an error
// and completes when run again (the job stays Transferring and is resumed); never Completed with wrong data.
TEST_F(DiskPrepTest, ImportsUnderInjectedFaultsCompleteOrResume) { ImportSoak(/*through_proxy=*/false); }

TEST_F(DiskPrepTest, ImportsThroughTheFaultProxyCompleteOrResume) { ImportSoak(/*through_proxy=*/true); }

TEST_F(DiskPrepTest, RefusalsAndBadInput) {
  EXPECT_THAT(PrepareDrives(Options({"usb"})),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("internal SATA")));
  EXPECT_THAT(PrepareDrives(Options({"huge"})), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("10 TB")));
  EXPECT_THAT(PrepareDrives(Options({"d1"})),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("Attach another drive")));
  DiskPrepOptions bad = Options({"d2"});
  bad.staging = dir_ + "/not-staging";
  EXPECT_THAT(PrepareDrives(bad), StatusIs(absl::StatusCode::kNotFound, HasSubstr("not a staging location")));
  // Another computer: p: is required.
  std::string job = *file::ReadFile(staging_ + "/offline-job.json");
  std::string other = job;
  size_t at = other.find("\"sourceHost\"");
  other.replace(at, other.find(',', at) - at, "\"sourceHost\": \"elsewhere\"");
  ASSERT_THAT(file::WriteFileAtomic(staging_ + "/offline-job.json", other, 0600), IsOk());
  EXPECT_THAT(PrepareDrives(Options({"d2"})), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("p:")));
  DiskPrepOptions with_p = Options({"d2"});
  with_p.publish_settings = dir_ + "/missing.publishsettings";
  EXPECT_THAT(PrepareDrives(with_p), StatusIs(absl::StatusCode::kNotFound));
  // The staging data was never modified.
  EXPECT_EQ(*file::ReadFile(staging_ + "/offline-job.json"), other);
}

}  // namespace
}  // namespace vmb::offline
