// One writer per item, against a real blob server (Azurite): a live holder refuses the next writer with its record;
// a holder on this computer that is gone is broken after the (fake) clock waited 2 s, never at once.
#include "offline_seed/vault/writer_lease.h"

#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class WriterLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
    ASSERT_TRUE(azurite.ok()) << azurite.status();
    azurite_ = std::move(*azurite);
    transport_ = http::NewCurlTransport();
    client_ = std::make_unique<blob::BlobClient>(
        transport_.get(),
        *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey));
    blob::BlobUri container = blob::BlobUri::ForAccount(azurite_->endpoint())->WithContainer("vault");
    ASSERT_THAT(client_->CreateContainer(container), IsOk());
    lock_ = container.WithBlob("item1/writer.lock");
  }

  static std::string Host() {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    return host;
  }

  // A process that has ended: its pid names no one (until reused, which takes far longer than this test).
  static int GonePid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }

  std::unique_ptr<vmb::testing::Azurite> azurite_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::unique_ptr<blob::BlobClient> client_;
  blob::BlobUri lock_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(WriterLeaseTest, ALiveHolderRefusesTheNextWriterUntilItLetsGo) {
  absl::StatusOr<std::unique_ptr<WriterLease>> first = WriterLease::Acquire(client_.get(), lock_, "item1", clock_);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_THAT(
      WriterLease::Acquire(client_.get(), lock_, "item1", clock_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr(absl::StrCat("another backup of item1 is running since 2023-11-14T22:13:20Z (host ", Host(),
                                      ", process ", ::getpid(), "); this run stopped before writing anything"))));
  EXPECT_EQ(clock_.total_slept(), absl::ZeroDuration()) << "a live holder is not waited for";
  EXPECT_THAT((*first)->Check(), IsOk());
  first->reset();
  EXPECT_THAT(WriterLease::Acquire(client_.get(), lock_, "item1", clock_).status(), IsOk());
}

// A run that died holding the lease (its record names this computer): broken only after the record was read again.
TEST_F(WriterLeaseTest, AStaleHolderOnThisComputerIsBrokenAfterTheClockWaited) {
  struct Case {
    const char* what;
    std::string pid, token;
  };
  const std::vector<Case> cases = {
      {"a process that is gone", absl::StrCat(GonePid()), "t1"},
      {"this process, with a lease it no longer holds", absl::StrCat(::getpid()), "not-a-live-token"},
  };
  for (const Case& c : cases) {
    FakeClock clock;
    if (absl::IsNotFound(client_->GetProperties(lock_).status())) {
      ASSERT_THAT(client_->PutBlockBlob(lock_, ""), IsOk());
    }
    absl::StatusOr<std::string> id = client_->AcquireLease(lock_, WriterLease::kSeconds);
    ASSERT_THAT(id.status(), IsOk()) << c.what;
    ASSERT_THAT(client_->SetMetadata(lock_, {{"host", Host()}, {"pid", c.pid}, {"since", "x"}, {"token", c.token}},
                                     {*id, false}),
                IsOk());
    absl::StatusOr<std::unique_ptr<WriterLease>> lease = WriterLease::Acquire(client_.get(), lock_, "item1", clock);
    ASSERT_THAT(lease.status(), IsOk()) << c.what;
    EXPECT_EQ(clock.total_slept(), absl::Seconds(2)) << c.what;
    lease->reset();  // lets go: the next case takes the lease by hand
  }
}

TEST_F(WriterLeaseTest, AHolderOnAnotherComputerIsWaitedOutNotBroken) {
  ASSERT_THAT(client_->PutBlockBlob(lock_, ""), IsOk());
  absl::StatusOr<std::string> id = client_->AcquireLease(lock_, WriterLease::kSeconds);
  ASSERT_THAT(id.status(), IsOk());
  ASSERT_THAT(client_->SetMetadata(
                  lock_, {{"host", "elsewhere"}, {"pid", "1"}, {"since", "2026-01-01T00:00:00Z"}, {"token", "t"}},
                  {*id, false}),
              IsOk());
  EXPECT_THAT(WriterLease::Acquire(client_.get(), lock_, "item1", clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("running since 2026-01-01T00:00:00Z (host elsewhere, process 1)")));
  EXPECT_EQ(clock_.total_slept(), absl::ZeroDuration());
}

TEST(FormatUtc, SecondsInUtc) { EXPECT_EQ(FormatUtc(absl::FromUnixSeconds(1700000000)), "2023-11-14T22:13:20Z"); }

}  // namespace
}  // namespace vmb::vault
