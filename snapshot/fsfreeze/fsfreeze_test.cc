#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/error_codes.h"
#include "snapshot/fsfreeze/freeze_record.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"
#include "snapshot/fsfreeze/holder.h"
#include "snapshot/fsfreeze/mounts.h"
#include "snapshot/testing/freeze_contract.h"

namespace vmb::snapshot::fsfreeze {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;

constexpr char kMounts[] =
    "/dev/sda1 / ext4 rw,relatime 0 0\n"
    "proc /proc proc rw 0 0\n"
    "tmpfs /run tmpfs rw 0 0\n"
    "/dev/sdb1 /mnt/resource ext4 rw 0 0\n"
    "/dev/sdc1 /data xfs rw 0 0\n"
    "/dev/sdd1 /data/logs btrfs rw,subvol=/a 0 0\n"
    "/dev/sdd1 /data/logs2 btrfs rw,subvol=/b 0 0\n"
    "/dev/loop0 /snap/core/1 squashfs ro 0 0\n"
    "/dev/loop1 /mnt/img ext4 rw 0 0\n"
    "/dev/sde1 /srv/my\\040disk ext3 rw 0 0\n"
    "/dev/sdf1 /scratch ext4 rw 0 0\n";

std::string Tmp(const std::string& n) { return vmb::testing::TempPath(n); }

// Waits for `done` to hold, up to `limit`, looking every few milliseconds. Only for what another process does (the
// holder, its guardian): nothing in this process can say when that happens.
bool WaitUntil(const std::function<bool()>& done, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time give_up = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

TEST(Mounts, EligibilityAndOrder) {
  std::vector<Mount> mounts = ParseMounts(kMounts);
  ASSERT_EQ(mounts.size(), 11u);
  EXPECT_EQ(mounts[9].mount_point, "/srv/my disk");
  EXPECT_THAT(FreezeOrder(mounts, {"/scratch"}), ElementsAre("/data/logs", "/srv/my disk", "/data", "/"));
}

// A FreezeSyscalls that records calls in memory.
class Recorder : public FreezeSyscalls {
 public:
  absl::StatusOr<int> Open(const std::string& mp) override { return static_cast<int>(calls.size()) + 100; }
  absl::Status Freeze(int, const std::string& mp) override {
    if (mp == fail) return absl::UnavailableError("EBUSY");
    calls.push_back("freeze " + mp);
    if (clock != nullptr) clock->Advance(freeze_takes);
    return absl::OkStatus();
  }
  absl::Status Thaw(int, const std::string& mp) override {
    calls.push_back("thaw " + mp);
    return absl::OkStatus();
  }
  void Close(int) override {}
  std::vector<std::string> calls;
  std::string fail;
  FakeClock* clock = nullptr;  // when set, each freeze takes `freeze_takes` of its time
  absl::Duration freeze_takes;
};

struct Pipes {
  int to_holder[2], from_holder[2];
  Pipes() {
    (void)!::pipe(to_holder);
    (void)!::pipe(from_holder);
  }
  std::string ReadAll() {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(from_holder[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }
};

TEST(Holder, ThawsInReverseOnRequestOnEofAndByWatchdog) {
  HolderOptions o;
  o.mounts = {"/data", "/"};
  o.lock_file = Tmp("lock1");
  {
    Recorder r;
    Pipes p;
    (void)!::write(p.to_holder[1], "thaw\n", 5);
    EXPECT_EQ(RunHolder(r, o, p.to_holder[0], p.from_holder[1]), 0);
    ::close(p.from_holder[1]);
    EXPECT_EQ(p.ReadAll(), "frozen\nthawed\n");
    EXPECT_THAT(r.calls, ElementsAre("freeze /data", "freeze /", "thaw /", "thaw /data"));
  }
  {
    Recorder r;
    Pipes p;
    ::close(p.to_holder[1]);  // the extension is gone
    EXPECT_EQ(RunHolder(r, o, p.to_holder[0], p.from_holder[1]), 4);
    EXPECT_THAT(r.calls, ElementsAre("freeze /data", "freeze /", "thaw /", "thaw /data"));
  }
}

// The watchdog decides by the injected clock: freezes that take longer than the timeout leave nothing to wait for,
// so the holder thaws at once and says so, with no input and no real time passing.
TEST(Holder, WatchdogThawsWhenTheClockPassesTheTimeout) {
  FakeClock clock;
  HolderOptions o;
  o.mounts = {"/data", "/"};
  o.lock_file = Tmp("lock-watchdog");
  o.timeout = absl::Seconds(60);
  o.clock = &clock;
  Recorder r;
  r.clock = &clock;
  r.freeze_takes = absl::Seconds(31);  // the second freeze ends past the 60 s
  Pipes p;
  EXPECT_EQ(RunHolder(r, o, p.to_holder[0], p.from_holder[1]), 3);
  ::close(p.from_holder[1]);
  EXPECT_EQ(p.ReadAll(), "frozen\nwatchdog-thawed\n");
  EXPECT_THAT(r.calls, ElementsAre("freeze /data", "freeze /", "thaw /", "thaw /data"));
}

// The stale-freeze check before a freeze asks the injected clock too: a record whose holder (this process) is alive
// but whose deadline is past on that clock is thawed first, then the new freeze is recorded in its place.
TEST(Holder, ThawsARecordStaleByItsClockBeforeFreezing) {
  const absl::Time real_now = absl::Now();
  FakeClock clock(real_now + absl::Hours(2));
  HolderOptions o;
  o.mounts = {"/data"};
  o.lock_file = Tmp("lock-stale-by-clock");
  o.clock = &clock;
  o.guardian = false;
  ASSERT_THAT(WriteRecord(RecordPathFor(o.lock_file), {real_now + absl::Hours(1), ::getpid(), 0, {"/old", "/"}}),
              IsOk());
  Recorder r;
  Pipes p;
  (void)!::write(p.to_holder[1], "thaw\n", 5);
  EXPECT_EQ(RunHolder(r, o, p.to_holder[0], p.from_holder[1]), 0);
  EXPECT_THAT(r.calls, ElementsAre("thaw /", "thaw /old", "freeze /data", "thaw /data"));
  EXPECT_FALSE(ReadRecord(RecordPathFor(o.lock_file)).ok()) << "the holder's own record is gone after its thaw";
}

// The dry-run log's times are the injected clock's.
TEST(DryRun, LogsEachCallWithTheClocksTime) {
  FakeClock clock(absl::FromUnixMillis(1700000000123));
  const std::string log = Tmp("dry-run-clock.log");
  {
    std::unique_ptr<FreezeSyscalls> sys = DryRunFreezeSyscalls(log, "", clock);
    ASSERT_THAT(sys->Freeze(*sys->Open("/data"), "/data"), IsOk());
    clock.Advance(absl::Milliseconds(250));
    ASSERT_THAT(sys->Thaw(1000, "/data"), IsOk());
  }
  EXPECT_EQ(file::ReadFile(log).value_or(""), "1700000000123 freeze /data\n1700000000373 thaw /data\n");
}

TEST(Holder, FailureMidwayThawsWhatWasFrozenAndTheLockRefusesASecondFreeze) {
  HolderOptions o;
  o.mounts = {"/data", "/srv", "/"};
  o.lock_file = Tmp("lock2");
  Recorder r;
  r.fail = "/srv";
  Pipes p;
  EXPECT_EQ(RunHolder(r, o, p.to_holder[0], p.from_holder[1]), 2);
  ::close(p.from_holder[1]);
  EXPECT_THAT(p.ReadAll(), HasSubstr("error 121"));
  EXPECT_THAT(r.calls, ElementsAre("freeze /data", "thaw /data"));

  int held = ::open(o.lock_file.c_str(), O_RDWR);
  ASSERT_EQ(::flock(held, LOCK_EX | LOCK_NB), 0);
  Recorder r2;
  Pipes p2;
  EXPECT_EQ(RunHolder(r2, o, p2.to_holder[0], p2.from_holder[1]), 2);
  ::close(p2.from_holder[1]);
  EXPECT_THAT(p2.ReadAll(), HasSubstr("error 126 another freeze is held"));
  EXPECT_TRUE(r2.calls.empty());
  ::close(held);
}

// The real holder process (vmsnapshot freeze-holder) in dry-run mode.
class ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[PATH_MAX];
    ASSERT_NE(::realpath("snapshot/vmsnapshot", path), nullptr);
    options_.holder_binary = path;
    options_.mounts_file = Tmp("mounts");
    options_.skip_mounts = {"/scratch"};
    ASSERT_THAT(file::WriteFileAtomic(options_.mounts_file, kMounts, 0644), IsOk());
    options_.lock_file = Tmp(std::string("lock-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_.dry_run_log = Tmp(std::string("log-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ::unlink(options_.dry_run_log.c_str());
  }
  std::vector<std::string> Log() {
    std::vector<std::string> out;
    for (absl::string_view line :
         absl::StrSplit(file::ReadFile(options_.dry_run_log).value_or(""), '\n', absl::SkipEmpty())) {
      out.emplace_back(line.substr(line.find(' ') + 1));
    }
    return out;
  }
  FsFreezeOptions options_;
};

TEST_F(ProviderTest, KeepsTheFreezeProviderContract) {
  FsFreezeOptions failing = options_;
  failing.dry_run_fail_mount = "/srv/my disk";
  snapshot::testing::ExpectFreezeContract(
      {[&] { return std::unique_ptr<FreezeProvider>(new FsFreezeProvider(options_)); },
       [&] { return std::unique_ptr<FreezeProvider>(new FsFreezeProvider(failing)); }});
}

TEST_F(ProviderTest, FreezeAndThawThroughTheHolderProcess) {
  FsFreezeProvider p(options_);
  ASSERT_THAT(p.Freeze(absl::Seconds(30)), IsOk());
  EXPECT_THAT(Log(), ElementsAre("freeze /data/logs", "freeze /srv/my disk", "freeze /data", "freeze /"));
  FsFreezeProvider second(options_);
  absl::Status again = second.Freeze(absl::Seconds(30));
  EXPECT_EQ(CodeOf(again, 0), kSnapshotInProgress) << again;
  ASSERT_THAT(p.Thaw(), IsOk());
  EXPECT_EQ(Log().size(), 8u);
  EXPECT_EQ(Log()[4], "thaw /");
  EXPECT_EQ(Log()[7], "thaw /data/logs");
  EXPECT_THAT(p.Thaw(), IsOk());  // idempotent
}

TEST_F(ProviderTest, WatchdogThawsAndThawReportsIt) {
  FsFreezeProvider p(options_);
  ASSERT_THAT(p.Freeze(absl::Milliseconds(300)), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return Log().size() == 8u; })) << "the watchdog thawed on its own";
  absl::Status s = p.Thaw();
  EXPECT_EQ(CodeOf(s, 0), kFreezeTimeout) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("not file-system consistent"));
}

TEST_F(ProviderTest, ExtensionKilledWithSigkillIsThawedWithinASecond) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // plays the extension: freezes, then hangs
    FsFreezeProvider p(options_);
    bool ok = p.Freeze(absl::Seconds(60)).ok();
    (void)!::write(ready[1], ok ? "y" : "n", 1);
    for (;;) ::pause();
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ASSERT_EQ(Log().size(), 4u);
  absl::Time killed = absl::Now();
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(WaitUntil([&] { return Log().size() >= 8u; }));
  EXPECT_EQ(Log().size(), 8u);
  EXPECT_LT(absl::Now() - killed, absl::Seconds(1)) << "not the 60 s watchdog: the holder saw the extension die";
}

TEST_F(ProviderTest, FreezeFailureIsCode121AndNothingStaysFrozen) {
  options_.dry_run_fail_mount = "/srv/my disk";
  FsFreezeProvider p(options_);
  absl::Status s = p.Freeze(absl::Seconds(10));
  EXPECT_EQ(CodeOf(s, 0), kFreezeFailed) << s;
  EXPECT_THAT(Log(), ElementsAre("freeze /data/logs", "thaw /data/logs"));
}

// The holder itself SIGKILLed (OOM killer, kill -9): its guardian, in a session of its own, thaws at once, last
// frozen first, removes the freeze record, and the extension hears a 122.
TEST_F(ProviderTest, HolderKilledWithSigkillIsThawedByItsGuardian) {
  FsFreezeProvider p(options_);
  ASSERT_THAT(p.Freeze(absl::Seconds(60)), IsOk());
  absl::StatusOr<FreezeRecord> record = ReadRecord(RecordPathFor(options_.lock_file));
  ASSERT_THAT(record.status(), IsOk());
  EXPECT_EQ(record->holder, p.holder_pid());
  EXPECT_TRUE(ProcessAlive(record->guardian));
  EXPECT_THAT(record->mounts, ElementsAre("/data/logs", "/srv/my disk", "/data", "/"));
  EXPECT_NE(::getsid(record->guardian), ::getsid(record->holder)) << "the guardian has a session of its own";
  absl::Time killed = absl::Now();
  ::kill(record->holder, SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return Log().size() >= 8u; }));
  EXPECT_LT(absl::Now() - killed, absl::Seconds(1)) << "not the 60 s deadline: the guardian saw the holder die";
  EXPECT_THAT(Log(), ElementsAre("freeze /data/logs", "freeze /srv/my disk", "freeze /data", "freeze /", "thaw /",
                                 "thaw /data", "thaw /srv/my disk", "thaw /data/logs"));
  absl::Status s = p.Thaw();
  EXPECT_EQ(CodeOf(s, 0), kFreezeTimeout) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("guardian thawed"));
  EXPECT_FALSE(ReadRecord(RecordPathFor(options_.lock_file)).ok()) << "the record is gone";
}

// The holder stopped (SIGSTOP), not dead: the guardian thaws at the deadline; the extension is not held up by it.
TEST_F(ProviderTest, StoppedHolderIsThawedByItsGuardianAtTheDeadline) {
  FsFreezeProvider p(options_);
  ASSERT_THAT(p.Freeze(absl::Milliseconds(500)), IsOk());
  pid_t holder = p.holder_pid();
  ::kill(holder, SIGSTOP);
  absl::Time stopped = absl::Now();
  EXPECT_TRUE(WaitUntil([&] { return Log().size() >= 8u; }));
  EXPECT_EQ(Log().size(), 8u);
  EXPECT_LT(absl::Now() - stopped, absl::Milliseconds(1500));
  absl::Time thaw_called = absl::Now();
  absl::Status s = p.Thaw();
  EXPECT_EQ(CodeOf(s, 0), kFreezeTimeout) << s;
  EXPECT_LT(absl::Now() - thaw_called, absl::Seconds(7)) << "a stopped holder does not hang the extension";
  ::kill(holder, SIGCONT);
}

// Everything of a freeze died at once: the record survives and the sweep thaws what it names, last frozen first;
// a live freeze's record is left alone.
TEST(Sweep, ThawsAStaleRecordAndLeavesALiveOne) {
  std::string lock = Tmp("sweep.lock");
  Recorder r;
  EXPECT_FALSE(ThawStaleFreeze(r, lock, absl::Now()).found);
  // Live: this process is the holder and the deadline is ahead.
  ASSERT_THAT(WriteRecord(RecordPathFor(lock), {absl::Now() + absl::Seconds(30), ::getpid(), 0, {"/data", "/"}}),
              IsOk());
  SweepResult live = ThawStaleFreeze(r, lock, absl::Now());
  EXPECT_TRUE(live.found);
  EXPECT_FALSE(live.thawed);
  EXPECT_TRUE(r.calls.empty());
  // The same record past its deadline is stale.
  SweepResult late = ThawStaleFreeze(r, lock, absl::Now() + absl::Seconds(31));
  EXPECT_TRUE(late.thawed);
  EXPECT_THAT(late.note, HasSubstr("deadline had passed"));
  EXPECT_THAT(r.calls, ElementsAre("thaw /", "thaw /data"));
  EXPECT_FALSE(ReadRecord(RecordPathFor(lock)).ok());
  // Holder and guardian gone (a reaped child's pid), deadline ahead: stale too.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  ASSERT_THAT(WriteRecord(RecordPathFor(lock), {absl::Now() + absl::Seconds(30), child, child, {"/srv"}}), IsOk());
  r.calls.clear();
  SweepResult orphaned = ThawStaleFreeze(r, lock, absl::Now());
  EXPECT_TRUE(orphaned.thawed);
  EXPECT_THAT(orphaned.note, HasSubstr("holder and guardian were gone"));
  EXPECT_THAT(r.calls, ElementsAre("thaw /srv"));
  // A torn record is removed, not trusted.
  ASSERT_THAT(file::WriteFileAtomic(RecordPathFor(lock), "mount /x\n", 0600), IsOk());
  r.calls.clear();
  EXPECT_TRUE(ThawStaleFreeze(r, lock, absl::Now()).found);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_FALSE(ReadRecord(RecordPathFor(lock)).ok());
}

}  // namespace
}  // namespace vmb::snapshot::fsfreeze
