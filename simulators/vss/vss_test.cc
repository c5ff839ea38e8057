#include "simulators/vss/vss.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/io/memory_device.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/vss/vss_freeze_provider.h"
#include "simulators/vss/vss_socket.h"
#include "simulators/vss/workload.h"
#include "snapshot/error_codes.h"
#include "snapshot/testing/freeze_contract.h"
#include "snapshot/vss_client.h"

namespace vmb::vss {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// A writer whose events are logged under a lock: a writer that misses its limit keeps running on its own thread
// while the coordinator goes on (by design), so its calls can overlap.
class ScriptedWriter : public Writer {
 public:
  explicit ScriptedWriter(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  absl::Status OnPrepare() override {
    Log("prepare");
    return absl::OkStatus();
  }
  absl::Status OnFreeze() override {
    Log("freeze");
    while (hang_freeze.load()) absl::SleepFor(absl::Milliseconds(1));
    std::lock_guard<std::mutex> lock(mu_);
    return freeze_result;
  }
  absl::Status OnThaw() override {
    Log("thaw");
    ++thaws;
    return absl::OkStatus();
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void set_freeze_result(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    freeze_result = std::move(s);
  }
  std::atomic<bool> hang_freeze{false};
  std::atomic<int> thaws{0};

 private:
  void Log(const char* event) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
  }
  std::string name_;
  std::mutex mu_;
  std::vector<std::string> events_;
  absl::Status freeze_result;
};

TEST(Coordinator, PrepareFreezeThaw) {
  Coordinator c;
  auto w = std::make_shared<ScriptedWriter>("SqlServerWriter");
  c.Register(w);
  ASSERT_THAT(c.Freeze(), IsOk());
  EXPECT_TRUE(c.frozen());
  ASSERT_THAT(c.Thaw(), IsOk());
  EXPECT_FALSE(c.frozen());
  EXPECT_EQ(w->events(), (std::vector<std::string>{"prepare", "freeze", "thaw"}));
}

TEST(Coordinator, WriterMissingFlushAndHoldLimitFailsAndThaws) {
  FakeClock clock;  // the 10-second limit passes in fake time, quickly
  Limits limits;
  limits.poll = absl::Milliseconds(10);
  Coordinator c(clock, limits);
  auto slow = std::make_shared<ScriptedWriter>("SlowWriter");
  slow->hang_freeze = true;
  c.Register(slow);
  absl::Time start = clock.Now();
  absl::Status s = c.Freeze();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("SlowWriter")));
  EXPECT_EQ(OutcomeOf(s), kWriterTimeout);
  EXPECT_GE(clock.Now() - start, absl::Seconds(10));
  EXPECT_THAT(std::string(s.message()), HasSubstr("within 10s"));
  EXPECT_FALSE(c.frozen());
  slow->hang_freeze = false;
  for (int i = 0; i < 1000 && slow->thaws.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(slow->thaws.load(), 1) << "a failed freeze thaws every writer";
}

TEST(Coordinator, FailedWriterAndSecondFreezeAreRefused) {
  Coordinator c;
  auto w = std::make_shared<ScriptedWriter>("ExchangeWriter");
  c.Register(w);
  c.SetWriterFailed("ExchangeWriter", true);
  absl::Status s = c.Freeze();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("failed state")));
  EXPECT_EQ(OutcomeOf(s), kWriterInBadState);
  EXPECT_TRUE(w->events().empty()) << "no writer is touched";
  c.SetWriterFailed("ExchangeWriter", false);
  ASSERT_THAT(c.Freeze(), IsOk());
  EXPECT_EQ(OutcomeOf(c.Freeze()), kFreezeInProgress);
  ASSERT_THAT(c.Thaw(), IsOk());
}

TEST(VssFreezeProvider, MapsOutcomesToExtensionCodes) {
  Coordinator c;
  auto w = std::make_shared<ScriptedWriter>("W");
  c.Register(w);
  VssFreezeProvider p(&c);
  c.SetWriterFailed("W", true);
  EXPECT_EQ(snapshot::CodeOf(p.Freeze(absl::Seconds(1)), 0), snapshot::kVssWriterInBadState);
  c.SetWriterFailed("W", false);
  w->set_freeze_result(absl::InternalError("disk full"));
  EXPECT_EQ(snapshot::CodeOf(p.Freeze(absl::Seconds(1)), 0), snapshot::kFreezeFailed);
  w->set_freeze_result(absl::OkStatus());
  ASSERT_THAT(p.Freeze(absl::Seconds(1)), IsOk());
  EXPECT_EQ(snapshot::CodeOf(p.Freeze(absl::Seconds(1)), 0), snapshot::kSnapshotInProgress);
  EXPECT_THAT(p.Thaw(), IsOk());
}

// Both VSS providers keep the FreezeProvider contract: in process, and across the socket (failing: nobody listens,
// or a writer in a failed state).
TEST(VssProviders, KeepTheFreezeProviderContract) {
  Coordinator c;
  auto w = std::make_shared<ScriptedWriter>("W");
  c.Register(w);
  snapshot::testing::ExpectFreezeContract(
      {[&] { return std::unique_ptr<snapshot::FreezeProvider>(new VssFreezeProvider(&c)); }, nullptr});
  Coordinator bad;
  auto failed = std::make_shared<ScriptedWriter>("F");
  bad.Register(failed);
  bad.SetWriterFailed("F", true);
  snapshot::testing::ExpectFreezeContract(
      {nullptr, [&] { return std::unique_ptr<snapshot::FreezeProvider>(new VssFreezeProvider(&bad)); }});
  std::string path = "/tmp/vmbk-vss-" + crypto::Base16Encode(crypto::SecureRandom().Bytes(8)) + ".sock";
  VssSocketServer server(&c, path);
  ASSERT_THAT(server.Start(), IsOk());
  std::string nobody = path + ".none";
  snapshot::testing::ExpectFreezeContract(
      {[&] { return std::unique_ptr<snapshot::FreezeProvider>(new snapshot::VssSocketFreezeProvider(path)); },
       [&] { return std::unique_ptr<snapshot::FreezeProvider>(new snapshot::VssSocketFreezeProvider(nobody)); }});
  server.Stop();
}

TEST(VssSocket, FreezeAcrossProcessesAndThawWhenTheExtensionDies) {
  Coordinator c;
  auto w = std::make_shared<ScriptedWriter>("W");
  c.Register(w);
  // Unix socket paths are limited to 107 bytes; TEST_TMPDIR is longer than that under Bazel.
  // (Bazel sandboxes have their own PID namespaces but may share /tmp: use a random name, not the pid.)
  std::string path = "/tmp/vmbk-vss-" + crypto::Base16Encode(crypto::SecureRandom().Bytes(8)) + ".sock";
  VssSocketServer server(&c, path);
  ASSERT_THAT(server.Start(), IsOk());
  {
    snapshot::VssSocketFreezeProvider p(path);
    ASSERT_THAT(p.Freeze(absl::Seconds(5)), IsOk());
    EXPECT_TRUE(c.frozen());
    ASSERT_THAT(p.Thaw(), IsOk());
    EXPECT_FALSE(c.frozen());
  }
  {
    auto p = std::make_unique<snapshot::VssSocketFreezeProvider>(path);
    ASSERT_THAT(p->Freeze(absl::Seconds(5)), IsOk());
    p.reset();  // the extension goes away without thawing
    for (int i = 0; i < 2000 && c.frozen(); ++i) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_FALSE(c.frozen()) << "the writers must not stay frozen";
  }
  c.SetWriterFailed("W", true);
  snapshot::VssSocketFreezeProvider p(path);
  EXPECT_EQ(snapshot::CodeOf(p.Freeze(absl::Seconds(5)), 0), snapshot::kVssWriterInBadState);
  server.Stop();
  snapshot::VssSocketFreezeProvider nobody(path);
  absl::Status s = nobody.Freeze(absl::Seconds(1));
  EXPECT_EQ(snapshot::CodeOf(s, 0), snapshot::kFreezeFailed);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no VSS service"));
}

// The checker must be able to fail: a copy taken between a transaction's two writes is torn.
TEST(Workload, CopyBetweenTheTwoWritesIsTornAndFrozenCopiesAreNot) {
  WorkloadLayout layout;
  layout.first_byte = 0;
  layout.slots = 64;
  io::MemoryDevice log(64 * 512), data(64 * 512);
  TwoDiskWorkload workload(&log, &data, layout);
  std::string torn_log, torn_data;
  workload.set_between_writes_hook([&](uint64_t id) {
    if (id == 100) {
      torn_log = log.Snapshot();
      torn_data = data.Snapshot();
    }
  });
  Coordinator c;
  auto shared = std::shared_ptr<TwoDiskWorkload>(&workload, [](TwoDiskWorkload*) {});
  c.Register(shared);
  workload.Start();
  int consistent_copies = 0;
  for (int round = 0; round < 50; ++round) {
    ASSERT_THAT(c.Freeze(), IsOk());
    ConsistencyReport r = CheckConsistency(log.Snapshot(), data.Snapshot(), layout);
    EXPECT_EQ(r.torn, 0u) << r.first_problem;
    consistent_copies += r.torn == 0;
    ASSERT_THAT(c.Thaw(), IsOk());
    absl::SleepFor(absl::Microseconds(200));
  }
  while (workload.committed() < 150) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_THAT(workload.Stop(), IsOk());
  EXPECT_EQ(consistent_copies, 50);
  ConsistencyReport torn = CheckConsistency(torn_log, torn_data, layout);
  EXPECT_GE(torn.torn, 1u);
  EXPECT_THAT(torn.first_problem, HasSubstr("100"));
}

}  // namespace
}  // namespace vmb::vss
