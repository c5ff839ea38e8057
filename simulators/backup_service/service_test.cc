// The backup service driving the real `vmsnapshot` binary (a subprocess, as the guest agent runs it) against
// Azurite, then restoring a recovery point to VHD files that hold exactly the snapshotted bytes.
#include "simulators/backup_service/service.h"

#include <climits>
#include <cstdlib>

#include "absl/strings/match.h"
#include "common/blob/blob_client.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/vhd/vhd.h"

namespace vmb::sim {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

TEST(BackupService, ProtectBackupListRestore) {
  absl::StatusOr<std::unique_ptr<testing::Azurite>> azurite = testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  auto transport = http::NewCurlTransport();
  ServiceOptions so;
  so.state_dir = ::vmb::testing::TempDir() + "/state";
  so.transport = transport.get();
  char binary[PATH_MAX];
  ASSERT_NE(::realpath("snapshot/vmsnapshot", binary), nullptr);

  ASSERT_TRUE(EnableForVm(so, "web01", "DefaultPolicy", (*azurite)->endpoint(), 2, 4u << 20, "sv-SE").ok());
  EXPECT_THAT(EnableForVm(so, "web01", "DefaultPolicy", (*azurite)->endpoint(), 2, 4u << 20, "sv-SE"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(EnableForVm(so, "db01", "GoldPolicy", (*azurite)->endpoint(), 2, 4u << 20, "sv-SE"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DefaultPolicy")));
  EXPECT_THAT(*ExtensionList(so, "web01"), ::testing::Not(HasSubstr("VMSnapshot")));

  BackupOptions b;
  b.vmsnapshot = binary;
  absl::StatusOr<proto::RecoveryPoint> rp1 = RunBackup(so, "web01", b);
  ASSERT_TRUE(rp1.ok()) << rp1.status();
  EXPECT_EQ(rp1->status(), "success") << rp1->message();
  EXPECT_EQ(rp1->snapshoturis_size(), 2);
  std::string table = *ExtensionList(so, "web01");
  EXPECT_THAT(table, HasSubstr("VMSnapshot"));
  EXPECT_THAT(table, HasSubstr("Succeeded"));
  EXPECT_THAT(table, HasSubstr("Microsoft.Azure.RecoveryServices"));
  // One version everywhere (issue 18): the seeds show the service deploying "typeHandlerVersion": "1.9"; the
  // service lists the version of the handler it installed (`vmsnapshot --version`), built from snapshot/version.bzl.
  EXPECT_STREQ(VMSNAPSHOT_VERSION, "1.9") << "snapshot/version.bzl no longer matches the seeds' typeHandlerVersion";
  EXPECT_THAT(table, ::testing::ContainsRegex(" " VMSNAPSHOT_VERSION " +True"));
  EXPECT_THAT(*ExtensionListJson(so, "web01"), HasSubstr("\"typeHandlerVersion\": \"" VMSNAPSHOT_VERSION "\""));

  // Change the disk after the first backup; the second recovery point sees the change, the first does not.
  blob::BlobClient admin(transport.get(),
                         *blob::SharedKeyCredential::Create(testing::Azurite::kAccount, testing::Azurite::kKey));
  blob::BlobUri disk0 =
      blob::BlobUri::ForAccount((*azurite)->endpoint())->WithContainer("web01-vhds").WithBlob("web01-disk0.vhd");
  std::string before = *admin.GetBlob(disk0);
  ASSERT_TRUE(admin.PutPages(disk0, 2u << 20, std::string(4096, 'N')).ok());
  absl::StatusOr<proto::RecoveryPoint> rp2 = RunBackup(so, "web01", b);
  ASSERT_TRUE(rp2.ok()) << rp2.status();
  EXPECT_EQ(rp2->id(), "rp-2");
  EXPECT_EQ(ListRecoveryPoints(so, "web01")->size(), 2u);

  std::string out = ::vmb::testing::TempDir() + "/restore1";
  absl::StatusOr<std::vector<std::string>> files = Restore(so, "web01", "rp-1", out);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  std::string restored_disk0;
  for (const std::string& f : *files) {
    if (!absl::EndsWith(f, "web01-disk0.vhd")) continue;
    auto vhd = vhd::VhdFile::Open(f, false);
    ASSERT_TRUE(vhd.ok()) << vhd.status();
    ASSERT_TRUE((*vhd)->Read(0, (*vhd)->size(), &restored_disk0).ok());
  }
  EXPECT_TRUE(restored_disk0 == before) << "recovery point 1 restores the bytes as they were at backup 1";

  EXPECT_THAT(Restore(so, "web01", "rp-9", out), StatusIs(absl::StatusCode::kNotFound, HasSubstr("rp-9")));

  // The policy: the backups just taken cover today's slot if it is past 22:30, else yesterday's; the next
  // day's slot is due once its time has come.
  absl::Time now = absl::Now();
  absl::StatusOr<ScheduleResult> none_due = RunDueBackup(so, "web01", b, now);
  ASSERT_TRUE(none_due.ok()) << none_due.status();
  EXPECT_FALSE(none_due->ran);
  EXPECT_EQ(none_due->next_due, LastScheduledSlot(now) + absl::Hours(24));
  absl::StatusOr<ScheduleResult> due = RunDueBackup(so, "web01", b, none_due->next_due + absl::Minutes(1));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_TRUE(due->ran);
  EXPECT_EQ(due->recovery_point.status(), "success");

  // fsfreeze through the real binary, in dry-run mode (no root needed): file-system consistent, frozen and thawed.
  std::string tmp = ::vmb::testing::TempDir();
  ASSERT_TRUE(
      file::WriteFileAtomic(tmp + "/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdc1 /data xfs rw 0 0\n", 0644).ok());
  BackupOptions fs = b;
  fs.freeze_provider = "fsfreeze";
  fs.extra_args = {"--freeze-mounts-file", tmp + "/mounts",      "--freeze-dry-run-log",
                   tmp + "/freeze.log",    "--freeze-lock-file", tmp + "/freeze.lock"};
  absl::StatusOr<proto::RecoveryPoint> rp3 = RunBackup(so, "web01", fs);
  ASSERT_TRUE(rp3.ok()) << rp3.status();
  EXPECT_EQ(rp3->status(), "success") << rp3->message();
  EXPECT_EQ(rp3->code(), 1);
  EXPECT_THAT(rp3->message(), HasSubstr("\"snapshotConsistency\":2"));
  std::string freeze_log = *file::ReadFile(tmp + "/freeze.log");
  EXPECT_THAT(freeze_log, HasSubstr("freeze /data"));
  EXPECT_THAT(freeze_log, HasSubstr("thaw /"));
  EXPECT_THAT(RunBackup(so, "nosuchvm", b), StatusIs(absl::StatusCode::kNotFound, HasSubstr("enable-for-vm")));
}

}  // namespace
}  // namespace vmb::sim
