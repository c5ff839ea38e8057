// `vmsnapshot enable` killed with SIGKILL at random moments (as a guest agent or an OOM killer would), with the
// fsfreeze provider in dry-run mode so every freeze and thaw is logged with its time. After every kill:
//   - every mount frozen is thawed again, within the bound (the holder sees the extension die and thaws at once;
//     the watchdog is the fallback),
//   - the status file is absent or whole JSON (written atomically),
//   - the next backup job runs to the end and reports success with snapshots that exist (no stale lock, no
//     half-frozen state left behind).
// Seed and count: $VMB_KILL_SEED (default 20261123), $VMB_KILL_COUNT (default 50); both printed.
#include <climits>
#include <cstdlib>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/process/subprocess.h"
#include "common/testing/azurite.h"
#include "common/testing/temp_dir.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "simulators/backup_service/backup_service.h"
#include "snapshot/soak_testing.h"

namespace vmb::snapshot {
namespace {

TEST(KillTest, EnableKilledAtRandomMomentsNeverLeavesTheVmFrozen) {
  const uint64_t seed = EnvOr("VMB_KILL_SEED", 20261123);
  const int kills = static_cast<int>(EnvOr("VMB_KILL_COUNT", 50));
  std::printf("kill test: seed %llu, %d kills (VMB_KILL_SEED / VMB_KILL_COUNT to change)\n",
              static_cast<unsigned long long>(seed), kills);
  absl::StatusOr<std::unique_ptr<testing::Azurite>> azurite = testing::Azurite::Start();
  ASSERT_TRUE(azurite.ok()) << azurite.status();
  const std::string dir = vmb::testing::TempDir();
  auto transport = http::NewCurlTransport();
  sim::BackupJobSpec spec;
  spec.transport = transport.get();
  spec.vm_dir = dir + "/vm";
  spec.blob_endpoint = (*azurite)->endpoint();
  spec.disks = 4;
  spec.disk_size = 1u << 20;
  absl::StatusOr<DryRunExtension> ext =
      DryRunExtension::Make(dir, "/dev/sda1 / ext4 rw 0 0\n/dev/sdc1 /data xfs rw 0 0\n");
  ASSERT_TRUE(ext.ok()) << ext.status();
  const std::string& log = ext->log;

  auto run = [&](int timeout_ms, int* seq) -> process::CommandResult {
    absl::StatusOr<sim::PreparedJob> job = sim::PrepareBackupJob(spec);
    if (!job.ok()) {
      ADD_FAILURE() << job.status();
      return process::CommandResult{};
    }
    *seq = job->seq;
    absl::StatusOr<process::CommandResult> r = ext->Enable(spec.vm_dir, job->seq, job->cert_dir, timeout_ms);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : process::CommandResult{};
  };
  // The frozen window of the last whole job, in ms from its start: half the kills aim at it.
  int window_from = 0, window_to = 0, last_job_ms = 0;
  auto expect_next_run_succeeds = [&](int round) {
    int seq = 0;
    int freezes_before = ReadFreezeLog(log).freezes;
    absl::Time start = absl::Now();
    process::CommandResult r = run(60000, &seq);
    last_job_ms = std::max<int>(20, static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - start)));
    FreezeLog l = ReadFreezeLog(log, freezes_before);
    window_from = static_cast<int>(l.first_freeze_ms - absl::ToUnixMillis(start));
    window_to = static_cast<int>(l.last_thaw_ms - absl::ToUnixMillis(start));
    EXPECT_EQ(r.exit_code, 0) << "round " << round << ": " << r.stderr_data;
    absl::StatusOr<sim::RecoveryPoint> rp = sim::CollectBackupJob(spec);
    ASSERT_TRUE(rp.ok()) << "round " << round << ": " << rp.status();
    EXPECT_EQ(rp->status, "success") << "round " << round << ": " << rp->message;
    EXPECT_EQ(rp->snapshot_uris.size(), 4u) << "round " << round;
  };

  // Calibration: how long one whole job takes here (the best of 3); even kills land anywhere in [0, 1.2 x that],
  // odd ones inside the frozen window of the job before.
  int full_ms = INT_MAX;
  for (int i = 0; i < 3; ++i) {
    absl::Time t0 = absl::Now();
    expect_next_run_succeeds(-1 - i);
    full_ms = std::min<int>(full_ms, std::max<int64_t>(20, absl::ToInt64Milliseconds(absl::Now() - t0)));
  }

  std::mt19937_64 rng(seed);
  int killed = 0, killed_while_frozen = 0, finished_first = 0;
  absl::Duration worst_thaw;
  // Rounds go on until `kills` runs were really killed (a run may finish before its kill time on a fast moment);
  // the kill times follow the last whole job's duration, so a busy machine does not shift them all past the end.
  int i = 0;
  for (; killed < kills && i < 4 * kills; ++i) {
    FreezeLog before = ReadFreezeLog(log);
    int delay = 1 + static_cast<int>(rng() % (last_job_ms * 6 / 5));
    if (i % 2 == 1 && window_to > window_from && window_from > 0) {
      delay = window_from + static_cast<int>(rng() % (window_to - window_from + 1));
    }
    int seq = 0;
    const int64_t start_ms = absl::ToUnixMillis(absl::Now());
    process::CommandResult r = run(delay, &seq);
    const int64_t kill_ms = start_ms + delay;
    if (r.exit_code == 128 + 9) {
      ++killed;
    } else {
      ++finished_first;
    }
    // Every freeze is matched by a thaw, soon. The holder, another process, thaws: its log is polled with a deadline.
    FreezeLog after = ReadFreezeLog(log, before.freezes);
    while (after.freezes > after.thaws && absl::ToUnixMillis(absl::Now()) - kill_ms < 70000) {
      absl::SleepFor(absl::Milliseconds(5));
      after = ReadFreezeLog(log, before.freezes);
    }
    ASSERT_EQ(after.freezes, after.thaws) << "round " << i << " (kill after " << delay << " ms): still frozen";
    if (r.exit_code == 128 + 9 && after.freezes > before.freezes && after.last_thaw_ms >= kill_ms - 1) {
      // Killed between the freeze and its thaw: the holder thawed after the kill.
      ++killed_while_frozen;
      absl::Duration thawed_after = absl::Milliseconds(after.last_thaw_ms - kill_ms);
      worst_thaw = std::max(worst_thaw, thawed_after);
      EXPECT_LT(thawed_after, absl::Seconds(2)) << "round " << i
                                                << ": the holder should thaw when the extension dies, "
                                                   "not wait for its watchdog";
    }
    EXPECT_GE(after.freezes, before.freezes);
    // The status file is absent or whole.
    absl::StatusOr<std::string> status = file::ReadFile(absl::StrCat(spec.vm_dir, "/status/", seq, ".status"));
    if (status.ok()) {
      google::protobuf::Value v;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(*status, &v).ok())
          << "round " << i << ": torn status file: " << *status;
    }
    expect_next_run_succeeds(i);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf("kill test: frozen window of the last job: %d-%d ms after its start\n", window_from, window_to);
  std::printf(
      "kill test: one job %d ms; %d killed (%d while the file systems were frozen, worst thaw %lld ms after "
      "the kill), %d finished before their kill time; every next job succeeded\n",
      full_ms, killed, killed_while_frozen, static_cast<long long>(absl::ToInt64Milliseconds(worst_thaw)),
      finished_first);
  EXPECT_EQ(killed, kills) << "after " << i << " rounds";
  EXPECT_GT(killed_while_frozen, kills / 5) << "the frozen window should be hit (aimed at by half the kills)";
}

}  // namespace
}  // namespace vmb::snapshot
