// Proof of application consistency, end to end against Azurite: a workload writes transactions across two disks
// flat out while the backup service runs 20 backups through the extension with the vss-sim freeze provider; every
// recovery point read back from its snapshots holds only whole transactions. The same harness with the `none`
// provider and a backup taken between a transaction's two writes shows the torn transaction, so the checker is
// proven able to fail.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/page_blob_device.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/backup_service/backup_service.h"
#include "simulators/backup_service/service.h"
#include "simulators/vhd/vhd.h"
#include "simulators/vss/vss.h"
#include "simulators/vss/vss_freeze_provider.h"
#include "simulators/vss/vss_socket.h"
#include "simulators/vss/workload.h"
#include "snapshot/enable_job.h"
#include "snapshot/error_codes.h"

namespace vmb::vss {
namespace {

struct Vm {
  sim::BackupJobSpec spec;
  std::unique_ptr<blob::PageBlobDevice> log_disk, data_disk;
};

class ConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::Azurite>> a = testing::Azurite::Start();
    ASSERT_TRUE(a.ok()) << a.status();
    azurite_ = *std::move(a);
    transport_ = http::NewCurlTransport();
    admin_ = std::make_unique<blob::BlobClient>(
        transport_.get(), *blob::SharedKeyCredential::Create(testing::Azurite::kAccount, testing::Azurite::kKey));
  }

  // Provisions a VM with two 4 MiB disks (the first backup job is prepared too).
  Vm MakeVm(const std::string& name) {
    Vm vm;
    vm.spec.vm_dir = absl::StrCat(::vmb::testing::TempDir(), "/", name);
    vm.spec.blob_endpoint = azurite_->endpoint();
    vm.spec.disks = 2;
    vm.spec.disk_size = 4u << 20;
    vm.spec.transport = transport_.get();
    EXPECT_TRUE(sim::PrepareBackupJob(vm.spec).ok());
    blob::BlobUri account = *blob::BlobUri::ForAccount(azurite_->endpoint());
    auto disk = [&](int i) {
      return account.WithContainer(name + "-vhds").WithBlob(absl::StrCat(name, "-disk", i, ".vhd"));
    };
    vm.log_disk = std::make_unique<blob::PageBlobDevice>(admin_.get(), disk(0), vm.spec.disk_size);
    vm.data_disk = std::make_unique<blob::PageBlobDevice>(admin_.get(), disk(1), vm.spec.disk_size);
    return vm;
  }

  // Runs the prepared job through the extension and checks the recovery point's snapshots.
  ConsistencyReport BackupAndCheck(Vm& vm, snapshot::FreezeProvider* freeze, int expected_code) {
    snapshot::EnableOptions o;
    o.handler_environment = vm.spec.vm_dir + "/HandlerEnvironment.json";
    o.cert_dir = vm.spec.vm_dir + "/certs";
    o.transport = transport_.get();
    o.freeze = freeze;
    snapshot::EnableResult r = snapshot::RunEnable(o);
    EXPECT_EQ(r.code, expected_code) << r.message;
    absl::StatusOr<sim::RecoveryPoint> rp = sim::CollectBackupJob(vm.spec);
    EXPECT_TRUE(rp.ok()) << rp.status();
    std::string log_area, data_area;
    for (const std::string& uri : rp.value_or(sim::RecoveryPoint{}).snapshot_uris) {
      blob::BlobUri snap = *blob::BlobUri::Parse(uri);
      absl::StatusOr<std::string> area =
          admin_->GetBlob(snap, blob::ByteRange{layout_.first_byte, layout_.slots * 512});
      EXPECT_TRUE(area.ok()) << area.status();
      (absl::StrContains(uri, "-disk0.vhd") ? log_area : data_area) = area.value_or("");
    }
    EXPECT_EQ(log_area.size(), layout_.slots * 512);
    EXPECT_EQ(data_area.size(), layout_.slots * 512);
    return CheckConsistency(log_area, data_area, layout_);
  }

  WorkloadLayout layout_;
  std::unique_ptr<testing::Azurite> azurite_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::unique_ptr<blob::BlobClient> admin_;
};

TEST_F(ConsistencyTest, TwentyBackupsWithVssSimAreAllConsistent) {
  Vm vm = MakeVm("vm-app");
  auto workload = std::make_shared<TwoDiskWorkload>(vm.log_disk.get(), vm.data_disk.get(), layout_);
  Coordinator coordinator;
  coordinator.Register(workload);
  VssFreezeProvider freeze(&coordinator);
  workload->Start();
  uint64_t last_seen = 0;
  for (int backup = 0; backup < 20; ++backup) {
    if (backup > 0) {
      ASSERT_TRUE(sim::PrepareBackupJob(vm.spec).ok());
    }
    while (workload->committed() < last_seen + 20) absl::SleepFor(absl::Milliseconds(2));  // flat out in between
    ConsistencyReport report = BackupAndCheck(vm, &freeze, snapshot::kSuccessAppConsistent);
    EXPECT_EQ(report.torn, 0u) << "backup " << backup << ": " << report.first_problem;
    EXPECT_GT(report.transactions, 0u);
    last_seen = workload->committed();
  }
  EXPECT_TRUE(workload->Stop().ok());
  EXPECT_FALSE(coordinator.frozen());
}

TEST_F(ConsistencyTest, CrashConsistentBackupBetweenTwoWritesIsTorn) {
  Vm vm = MakeVm("vm-torn");
  snapshot::NoFreeze none;
  ConsistencyReport torn;
  std::atomic<bool> done{false};
  auto workload = std::make_shared<TwoDiskWorkload>(vm.log_disk.get(), vm.data_disk.get(), layout_);
  workload->set_between_writes_hook([&](uint64_t id) {
    if (id == 40) {  // data of transaction 40 written, its commit record not yet
      torn = BackupAndCheck(vm, &none, snapshot::kSuccess);
      done = true;
    }
  });
  workload->Start();
  while (!done) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_TRUE(workload->Stop().ok());
  EXPECT_GE(torn.torn, 1u);
  EXPECT_THAT(torn.first_problem, ::testing::HasSubstr("transaction 40 has its data but no commit record"));
}

// The whole chain with real processes and files: the backup service runs the real `vmsnapshot` binary with
// --freeze-provider vss-sim, which reaches the workload's writer over the VSS socket; the recovery point is
// restored to VHD files and those hold only whole transactions.
TEST_F(ConsistencyTest, RealBinaryWithVssSimRestoresConsistentVhds) {
  char binary[PATH_MAX];
  ASSERT_NE(::realpath("snapshot/vmsnapshot", binary), nullptr);
  sim::ServiceOptions so;
  so.state_dir = absl::StrCat(::vmb::testing::TempDir(), "/state");
  so.transport = transport_.get();
  ASSERT_TRUE(sim::EnableForVm(so, "app01", "DefaultPolicy", azurite_->endpoint(), 2, 4u << 20, "en-us").ok());
  blob::BlobUri account = *blob::BlobUri::ForAccount(azurite_->endpoint());
  // The disks exist after the first job is prepared; the service prepares it inside RunBackup, so create them now.
  sim::BackupJobSpec spec;
  spec.vm_dir = so.state_dir + "/vms/app01";
  spec.blob_endpoint = azurite_->endpoint();
  spec.disks = 2;
  spec.disk_size = 4u << 20;
  spec.transport = transport_.get();
  ASSERT_TRUE(sim::PrepareBackupJob(spec).ok());
  blob::PageBlobDevice log_disk(admin_.get(), account.WithContainer("app01-vhds").WithBlob("app01-disk0.vhd"),
                                4u << 20);
  blob::PageBlobDevice data_disk(admin_.get(), account.WithContainer("app01-vhds").WithBlob("app01-disk1.vhd"),
                                 4u << 20);
  auto workload = std::make_shared<TwoDiskWorkload>(&log_disk, &data_disk, layout_);
  Coordinator coordinator;
  coordinator.Register(workload);
  // sun_path is short; sandboxes may share /tmp while having their own PID namespaces: a random name.
  std::string socket = absl::StrCat("/tmp/vmbk-vss-", crypto::Base16Encode(crypto::SecureRandom().Bytes(8)), ".sock");
  VssSocketServer server(&coordinator, socket);
  ASSERT_TRUE(server.Start().ok());
  workload->Start();
  sim::BackupOptions b;
  b.vmsnapshot = binary;
  b.freeze_provider = "vss-sim";
  b.extra_args = {"--vss-socket", socket};
  for (int i = 0; i < 3; ++i) {
    while (workload->committed() < static_cast<uint64_t>(30 * (i + 1))) absl::SleepFor(absl::Milliseconds(2));
    absl::StatusOr<sim::proto::RecoveryPoint> rp = sim::RunBackup(so, "app01", b);
    ASSERT_TRUE(rp.ok()) << rp.status();
    EXPECT_EQ(rp->code(), snapshot::kSuccessAppConsistent) << rp->message();
  }
  EXPECT_TRUE(workload->Stop().ok());
  server.Stop();
  for (const char* id : {"rp-1", "rp-2", "rp-3"}) {
    std::string out = absl::StrCat(::vmb::testing::TempDir(), "/restore-", id);
    absl::StatusOr<std::vector<std::string>> files = sim::Restore(so, "app01", id, out);
    ASSERT_TRUE(files.ok()) << files.status();
    std::string areas[2];
    for (int d = 0; d < 2; ++d) {
      auto vhd = vhd::VhdFile::Open(absl::StrCat(out, "/app01-disk", d, ".vhd"), false);
      ASSERT_TRUE(vhd.ok()) << vhd.status();
      ASSERT_TRUE((*vhd)->Read(layout_.first_byte, layout_.slots * 512, &areas[d]).ok());
    }
    ConsistencyReport r = CheckConsistency(areas[0], areas[1], layout_);
    EXPECT_EQ(r.torn, 0u) << id << ": " << r.first_problem;
    EXPECT_GT(r.transactions, 0u) << id;
  }
}

}  // namespace
}  // namespace vmb::vss
