// 200 backup jobs of the real `vmsnapshot enable` (a subprocess, as the guest agent runs it) against a real Azurite
// behind the fault proxy: connections closed before and after the service acted, truncated bodies, 503 storms with
// and without Retry-After, 500s, 409 SnapshotOperationRateExceeded, 403 AuthenticationFailed and latency, from a
// seed, on the wire (libcurl sees them). Faults are switched on only while the extension runs. Every outcome must be
// a success or a documented code, the status file must agree with the status blob when both exist, no freeze may
// be left behind, and a reported success must have made a new snapshot of every disk (no wrong "success").
// Seed and job count: $VMB_SOAK_SEED (default 20261123), $VMB_SOAK_JOBS (default 200); both printed.
#include <climits>
#include <cstdlib>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/blob/blob_client.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/process/subprocess.h"
#include "common/testing/azurite.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "simulators/backup_service/backup_service.h"
#include "simulators/faultproxy/fault_proxy.h"
#include "snapshot/error_codes.h"
#include "snapshot/soak_testing.h"

namespace vmb::snapshot {
namespace {

TEST(ProxySoak, TwoHundredJobsThroughFaultsOnTheWire) {
  const uint64_t seed = EnvOr("VMB_SOAK_SEED", 20261123);
  const int jobs = static_cast<int>(EnvOr("VMB_SOAK_JOBS", 200));
  std::printf("proxy soak: seed %llu, %d jobs (VMB_SOAK_SEED / VMB_SOAK_JOBS to change)\n",
              static_cast<unsigned long long>(seed), jobs);
  absl::StatusOr<std::unique_ptr<testing::Azurite>> azurite = testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  absl::StatusOr<std::unique_ptr<sim::FaultProxy>> proxy =
      sim::FaultProxy::Start(absl::StrCat("http://127.0.0.1:", (*azurite)->port()), http::FaultPlan::None());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const std::string dir = vmb::testing::TempDir();
  auto transport = http::NewCurlTransport();
  sim::BackupJobSpec spec;
  spec.transport = transport.get();
  spec.vm_dir = dir + "/soakvm";
  spec.blob_endpoint = (*proxy)->Rewrite((*azurite)->endpoint());  // the SAS URIs in the settings name the proxy
  spec.disks = 3;
  spec.disk_size = 1u << 20;
  absl::StatusOr<DryRunExtension> ext = DryRunExtension::Make(dir, "/dev/sda1 / ext4 rw 0 0\n");
  ASSERT_TRUE(ext.ok()) << ext.status();
  const std::string& log = ext->log;
  blob::BlobClient admin(transport.get(),
                         *blob::SharedKeyCredential::Create(testing::Azurite::kAccount, testing::Azurite::kKey));
  const blob::BlobUri disks = blob::BlobUri::ForAccount((*azurite)->endpoint())->WithContainer("soakvm-vhds");
  auto snapshots = [&]() {
    std::map<std::string, int> n;
    blob::ListOptions lo;
    lo.include_snapshots = true;
    for (const blob::BlobItem& item : admin.ListBlobs(disks, lo).value_or(std::vector<blob::BlobItem>{})) {
      n[item.name] += !item.snapshot.empty();
    }
    return n;
  };

  const std::set<int> documented = {kSuccessAppConsistent, kSuccess,           kError,
                                    kHttpFailure,          kSnapshotFailedAll, kSnapshotFailedSome,
                                    kSnapshotRateExceeded, kFreezeTimeout};
  std::map<int, int> outcomes;
  std::map<std::string, int> faults;
  for (int job = 0; job < jobs; ++job) {
    absl::StatusOr<sim::PreparedJob> prepared = sim::PrepareBackupJob(spec);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    std::map<std::string, int> before = snapshots();
    http::FaultPlan plan;
    plan.seed = seed + job;
    plan.latency = 0.1;
    plan.max_latency = absl::Milliseconds(30);
    (*proxy)->SetPlan(plan);
    absl::StatusOr<process::CommandResult> r =
        ext->Enable(spec.vm_dir, prepared->seq, prepared->cert_dir, 120000, {"--deadline", "100"});
    for (const auto& [kind, n] : (*proxy)->injected()) faults[kind] += n;
    (*proxy)->SetPlan(http::FaultPlan::None());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_NE(r->exit_code, 128 + 9) << "job " << job << " hung until the harness killed it";
    FreezeLog freezes = ReadFreezeLog(log);
    ASSERT_EQ(freezes.freezes, freezes.thaws) << "job " << job << " left a freeze behind";

    // The local status file always exists and carries the outcome.
    absl::StatusOr<std::string> status =
        file::ReadFile(absl::StrCat(spec.vm_dir, "/status/", prepared->seq, ".status"));
    ASSERT_TRUE(status.ok()) << "job " << job << ": no status file";
    int code = -1;
    {
      size_t at = status->find("\"code\":");
      ASSERT_NE(at, std::string::npos) << *status;
      ASSERT_TRUE(
          absl::SimpleAtoi(absl::string_view(*status).substr(at + 7, status->find_first_of(",}", at) - at - 7), &code));
    }
    ++outcomes[code];
    EXPECT_TRUE(documented.count(code)) << "job " << job << ": undocumented code " << code << " in " << *status;
    // The status blob, when the extension could write it, says the same; a success names snapshots that exist.
    absl::StatusOr<sim::RecoveryPoint> rp = sim::CollectBackupJob(spec);
    if (rp.ok()) {
      EXPECT_EQ(rp->code, code) << "job " << job << ": the status blob and the status file disagree";
    } else {
      EXPECT_NE(rp.status().code(), absl::StatusCode::kDataLoss) << "job " << job << ": " << rp.status();
    }
    if (code == kSuccessAppConsistent || code == kSuccess) {
      std::map<std::string, int> after = snapshots();
      for (int d = 0; d < spec.disks; ++d) {
        std::string name = absl::StrCat("soakvm-disk", d, ".vhd");
        EXPECT_GT(after[name], before[name]) << "job " << job << " reported success without a snapshot of " << name;
      }
    }
  }
  std::string summary = absl::StrCat("proxy soak: seed ", seed, ", ", jobs, " jobs; outcomes:");
  for (const auto& [code, n] : outcomes) absl::StrAppend(&summary, " code ", code, " x", n, ";");
  absl::StrAppend(&summary, " faults injected on the wire:");
  int total = 0;
  for (const auto& [kind, n] : faults) {
    absl::StrAppend(&summary, " ", kind, " x", n, ";");
    if (kind != "latency") total += n;
  }
  std::printf("%s\n", summary.c_str());
  EXPECT_GT(total, jobs / 2);               // the faults were really there
  EXPECT_GT(outcomes[kSuccess], jobs / 2);  // and most jobs recovered from them
}

}  // namespace
}  // namespace vmb::snapshot
