// The repair step against the control-plane simulator and an in-memory storage account: a drive the datacenter
// never received is re-sent from the staging location once, however often the repair runs (an explicit
// `seedagent repair`, then the first backup's own repair).
#include "offline_seed/repair/repair.h"

#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/blob/testing/fake_blob_service.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/journal/journal.h"
#include "offline_seed/testing/initiate_options.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/import_export/testing/control_plane_fixture.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

constexpr uint64_t kRange = 64u << 10;

class RepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    auto plane = ie::testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_TRUE(plane.ok()) << plane.status();
    plane_ = std::move(*plane);
    ie::SimAdmin admin(plane_->transport(), plane_->url(), plane_->token());
    auto account =
        admin.PutStorageAccount(testing::kSubscription, "offlinebackup", testing::kStorageAccount, "westeurope");
    ASSERT_THAT(account.status(), IsOk());
    // A staged initial backup of incompressible data (so every range has bytes to send).
    std::string src = dir_ + "/src";
    ASSERT_THAT(file::MakeDirs(src), IsOk());
    ASSERT_THAT(file::WriteFileAtomic(src + "/db.bin", crypto::SecureRandom().Bytes(600u << 10), 0644), IsOk());
    staging_ = dir_ + "/staging";
    ASSERT_THAT(InitiateOfflineBackup(testing::TestInitiateOptions({src}, staging_)).status(), IsOk());
    // diskprep's journal for drive D1: the staged image cut into ranges, as it records them.
    std::string image = *file::ReadFile(staging_ + "/images/image-0000.vhd");
    ASSERT_THAT(file::MakeDirs(staging_ + "/diskprep"), IsOk());
    auto journal = Journal::Open(staging_ + "/diskprep/D1.journal");
    ASSERT_TRUE(journal.ok()) << journal.status();
    proto::DiskPrepRecord formatted;
    formatted.set_step("formatted");
    formatted.set_driveid("D1");
    ASSERT_THAT((*journal)->Append(json::ToJsonCompact(formatted)), IsOk());
    for (uint64_t off = 0; off < image.size(); off += kRange) {
      std::string data = image.substr(off, kRange);
      proto::DiskPrepRecord r;
      r.set_step("range");
      r.set_driveid("D1");
      r.set_blob(absl::StrCat(testing::kContainer, "/", testing::kJobName, "/image-0000.vhd"));
      r.set_offset(off);
      r.set_length(data.size());
      r.set_md5(crypto::Base16Encode(crypto::Md5(data), true));
      ASSERT_THAT((*journal)->Append(json::ToJsonCompact(r)), IsOk());
      if (data.find_first_not_of('\0') != std::string::npos) {
        missing_bytes_ += data.size();
        ++missing_ranges_;
      }
    }
    // The import job: its only drive never reached the datacenter (the job is Packaging, the drive finished).
    ie::proto::Job job;
    job.set_location("westeurope");
    job.mutable_properties()->set_storageaccountid(account->id());
    job.mutable_properties()->set_jobtype("Import");
    job.mutable_properties()->mutable_returnaddress()->set_recipientname("Ops");
    auto* d = job.mutable_properties()->add_drivelist();
    d->set_driveid("D1");
    d->set_bitlockerkey("002816-008470-014080-019712-025344-030976-036608-042240");
    d->set_manifestfile("\\DriveManifest.xml");
    d->set_manifesthash("109B21108597EF36D5785F08303F3638");
    ie::JobRef ref{testing::kSubscription, "offlinebackup", testing::kJobName};
    auto created = plane_->Arm().CreateJob(ref, job);
    ASSERT_TRUE(created.ok()) << created.status();
    created->mutable_properties()->set_state("Packaging");
    created->mutable_properties()->mutable_drivelist(0)->set_state("NeverReceived");
    created->mutable_properties()->mutable_drivelist(0)->set_copystatus("NeverReceived: not in the package");
    ASSERT_THAT(admin.DatacenterUpdate(ref, *created).status(), IsOk());
  }

  RepairOptions Options() {
    return RepairOptions{staging_,  plane_->url(), plane_->token(),    "offlinebackup",
                         &storage_, account_,      plane_->transport()};
  }

  std::string dir_, staging_;
  std::unique_ptr<ie::testing::ControlPlaneFixture> plane_;
  blob::testing::FakeBlobService blobs_;
  blob::BlobClient storage_{&blobs_, *blob::SharedKeyCredential::Create("devstoreaccount1", blob::kDevAccountKey)};
  blob::BlobUri account_ = *blob::BlobUri::ForAccount("http://127.0.0.1:1/devstoreaccount1");
  uint64_t missing_bytes_ = 0;
  int missing_ranges_ = 0;
};

// `seedagent repair`, then the first backup (which repairs too): the missing ranges are sent once in all.
TEST_F(RepairTest, RepairThenBackupSendTheMissingRangesOnce) {
  ASSERT_GT(missing_ranges_, 5);
  absl::StatusOr<RepairResult> repair = RepairImport(Options());
  ASSERT_TRUE(repair.ok()) << repair.status();
  EXPECT_EQ(repair->ranges_resent, missing_ranges_);
  EXPECT_EQ(repair->bytes_resent, missing_bytes_);
  ASSERT_EQ(repair->drives.size(), 1u);
  EXPECT_THAT(repair->drives[0], HasSubstr("D1: NeverReceived"));
  const int requests = blobs_.request_count();
  absl::StatusOr<RepairResult> backup = RepairImport(Options());
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->ranges_resent, 0);
  EXPECT_EQ(backup->bytes_resent, 0u);
  EXPECT_EQ(backup->ranges_already_sent, missing_ranges_);
  EXPECT_EQ(blobs_.request_count(), requests) << "the second repair talked to the storage account";
  EXPECT_EQ(repair->bytes_resent + backup->bytes_resent, missing_bytes_);
  // The account holds the staged image.
  std::string image = *file::ReadFile(staging_ + "/images/image-0000.vhd");
  absl::StatusOr<std::string> imported = storage_.GetBlob(
      account_.WithContainer(testing::kContainer).WithBlob(absl::StrCat(testing::kJobName, "/image-0000.vhd")),
      blob::ByteRange{0, image.size()});
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(*imported == image);
}

// An interrupted repair resumes: what it recorded is not sent again, the rest is.
TEST_F(RepairTest, AnInterruptedRepairSendsOnlyTheRest) {
  blobs_.FailNext(1, 503, "ServerBusy");  // retried by the client: the first run still completes
  absl::StatusOr<RepairResult> first = RepairImport(Options());
  ASSERT_TRUE(first.ok()) << first.status();
  // Forget the last two ranges sent, as if the run had died before recording them.
  std::string path = staging_ + "/" + kRepairRecord;
  std::string text = *file::ReadFile(path);
  for (int i = 0; i < 2; ++i) text.erase(text.rfind('\n', text.size() - 2) + 1);
  ASSERT_THAT(file::WriteFileAtomic(path, text, 0600), IsOk());
  absl::StatusOr<RepairResult> again = RepairImport(Options());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ranges_resent, 2);
  EXPECT_EQ(again->ranges_already_sent, missing_ranges_ - 2);
}

TEST_F(RepairTest, AStagingLocationThatChangedIsRefused) {
  std::string image = staging_ + "/images/image-0000.vhd";
  std::string bytes = *file::ReadFile(image);
  bytes[100] ^= 1;
  ASSERT_THAT(file::WriteFileAtomic(image, bytes, 0644), IsOk());
  EXPECT_THAT(RepairImport(Options()), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("staging location changed")));
}

}  // namespace
}  // namespace vmb::offline
