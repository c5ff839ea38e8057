// Proof of application consistency, end to end against Azurite: a workload writes transactions across two disks
// flat out while the backup service runs 20 backups through the extension with the vss-sim freeze provider; every
// recovery point read back from its snapshots holds only whole transactions. The same harness with the `none`
// provider and a backup taken between a transaction's two writes shows the torn transaction, so the checker is
// proven able to fail.
#include <cstdlib>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/page_blob_device.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/backup_service/backup_service.h"
#include "simulators/vss/vss.h"
#include "simulators/vss/vss_freeze_provider.h"
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
    vm.spec.vm_dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
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

}  // namespace
}  // namespace vmb::vss
