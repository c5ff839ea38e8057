// One conformance suite for BlobClient, run against two backends: the in-memory FakeBlobService and a real Azurite
// (started by the test on a free loopback port, killed at exit) reached through the curl transport.
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "common/blob/blob_client.h"
#include "common/blob/page_blob_device.h"
#include "common/blob/testing/fake_blob_service.h"
#include "common/http/curl_transport.h"
#include "common/io/testing/block_device_contract.h"
#include "common/status/http_status.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/faultproxy/fault_proxy.h"

namespace vmb::blob {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

struct Backend {
  std::string name;
  http::HttpTransport* transport;
  BlobUri account;
  bool verifies_signatures;
  testing::FakeBlobService* fake;  // null for Azurite
};

// Shared across the suite: one Azurite process for all Azurite cases.
class Backends {
 public:
  static Backends& Get() {
    static Backends* b = new Backends();
    return *b;
  }
  Backend Fake() {
    return {"fake", &fake_, *BlobUri::ForAccount("http://127.0.0.1:1/devstoreaccount1"), false, &fake_};
  }
  absl::StatusOr<Backend> Azurite() {
    if (!azurite_) {
      absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> a = vmb::testing::Azurite::Start();
      if (!a.ok()) return a.status();
      azurite_ = *std::move(a);
      curl_ = http::NewCurlTransport();
    }
    return Backend{"azurite", curl_.get(), *BlobUri::ForAccount(azurite_->endpoint()), true, nullptr};
  }
  // Azurite behind the fault proxy with no faults: the proxy must be transparent.
  absl::StatusOr<Backend> AzuriteViaProxy() {
    absl::StatusOr<Backend> direct = Azurite();
    if (!direct.ok()) return direct.status();
    if (!proxy_) {
      absl::StatusOr<std::unique_ptr<sim::FaultProxy>> p =
          sim::FaultProxy::Start(absl::StrCat("http://127.0.0.1:", azurite_->port()), http::FaultPlan::None());
      if (!p.ok()) return p.status();
      proxy_ = *std::move(p);
    }
    return Backend{"azurite_via_proxy", curl_.get(), *BlobUri::ForAccount(proxy_->Rewrite(azurite_->endpoint())), true,
                   nullptr};
  }
  void Shutdown() {
    proxy_.reset();
    azurite_.reset();
  }

 private:
  testing::FakeBlobService fake_;
  std::unique_ptr<vmb::testing::Azurite> azurite_;
  std::unique_ptr<sim::FaultProxy> proxy_;
  std::unique_ptr<http::HttpTransport> curl_;
};

class BlobConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      backend_ = Backends::Get().Fake();
    } else {
      absl::StatusOr<Backend> b =
          GetParam() == "azurite" ? Backends::Get().Azurite() : Backends::Get().AzuriteViaProxy();
      ASSERT_TRUE(b.ok()) << b.status();
      backend_ = *b;
    }
    BlobClientOptions options;
    options.retry.initial_backoff = absl::Milliseconds(1);
    options.retry.seed = 7;
    options.clock = &clock_;
    credential_ = *SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey);
    client_ = std::make_unique<BlobClient>(backend_.transport, credential_, options);
    sas_client_ = std::make_unique<BlobClient>(backend_.transport, std::nullopt, options);
    // A container per test keeps cases independent on the shared server.
    std::string name = absl::AsciiStrToLower(::testing::UnitTest::GetInstance()->current_test_info()->name());
    name = name.substr(0, name.find('/'));
    container_ = backend_.account.WithContainer(name.substr(0, 60));
    ASSERT_THAT(client_->CreateContainer(container_), IsOk());
  }

  FakeClock clock_{absl::Now()};
  Backend backend_;
  std::optional<SharedKeyCredential> credential_;
  std::unique_ptr<BlobClient> client_;
  std::unique_ptr<BlobClient> sas_client_;
  BlobUri container_;
};

TEST_P(BlobConformance, ContainersCreateTwiceAndMissingOnesAreNotFound) {
  EXPECT_THAT(client_->CreateContainer(container_), IsOk());
  BlobUri missing = backend_.account.WithContainer("no-such-container").WithBlob("b");
  absl::StatusOr<std::string> r = client_->GetBlob(missing);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(AzureErrorCodeOf(r.status()), "ContainerNotFound");
  EXPECT_EQ(HttpStatusOf(r.status()), 404);
}

TEST_P(BlobConformance, BlockBlobRoundTripWithPropertiesAndMetadata) {
  BlobUri b = container_.WithBlob("status/vm.Status.txt");
  ASSERT_THAT(client_->PutBlockBlob(b, "{\"status\":\"success\"}", {{"taskId", "t1"}}, "application/json"), IsOk());
  EXPECT_THAT(client_->GetBlob(b), IsOkAndHolds(std::string("{\"status\":\"success\"}")));
  EXPECT_THAT(client_->GetBlob(b, ByteRange{2, 6}), IsOkAndHolds(std::string("status")));
  absl::StatusOr<BlobProperties> p = client_->GetProperties(b);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->content_length, 20u);
  EXPECT_EQ(p->blob_type, "BlockBlob");
  EXPECT_FALSE(p->etag.empty());
  EXPECT_EQ(p->metadata.at("taskid"), "t1");  // HTTP header names come back lower-cased
  ASSERT_THAT(client_->SetMetadata(b, {{"phase", "done"}}), IsOk());
  EXPECT_EQ(client_->GetProperties(b)->metadata.at("phase"), "done");
  EXPECT_THAT(client_->PutBlockBlob(b, "x", {{"bad-name", "v"}}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(BlobConformance, ParallelBlockUpload) {
  std::string data(5 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  BlobUri b = container_.WithBlob("big.bin");
  UploadOptions o;
  o.block_size = 1 << 20;
  o.parallelism = 4;
  ASSERT_THAT(client_->UploadBlockBlob(b, data, o), IsOk());
  absl::StatusOr<std::string> back = client_->GetBlob(b);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
}

// An interrupted block upload resumes from the uncommitted block list.
TEST_P(BlobConformance, UncommittedBlocksAreListedUntilCommitted) {
  BlobUri b = container_.WithBlob("pack.bin");
  ASSERT_THAT(client_->PutBlock(b, BlockId(0), "first"), IsOk());
  ASSERT_THAT(client_->PutBlock(b, BlockId(1), "second!"), IsOk());
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> staged = client_->GetUncommittedBlocks(b);
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 2u);
  std::map<std::string, uint64_t> sizes(staged->begin(), staged->end());
  EXPECT_EQ(sizes[BlockId(0)], 5u);
  EXPECT_EQ(sizes[BlockId(1)], 7u);
  ASSERT_THAT(client_->PutBlockList(b, {BlockId(0), BlockId(1)}), IsOk());
  EXPECT_EQ(*client_->GetBlob(b), "firstsecond!");
  EXPECT_TRUE(client_->GetUncommittedBlocks(b)->empty());
  // A run that resumes after the Put Block List went through: the committed blocks are listed with the rest and a
  // new block list names them beside a new block (Latest finds either kind).
  ASSERT_THAT(client_->PutBlock(b, BlockId(2), "third"), IsOk());
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> all = client_->GetAllBlocks(b);
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, uint64_t> all_sizes(all->begin(), all->end());
  EXPECT_EQ(all_sizes, (std::map<std::string, uint64_t>{{BlockId(0), 5}, {BlockId(1), 7}, {BlockId(2), 5}}));
  ASSERT_THAT(client_->PutBlockList(b, {BlockId(0), BlockId(1), BlockId(2)}), IsOk());
  EXPECT_EQ(*client_->GetBlob(b), "firstsecond!third");
}

TEST_P(BlobConformance, PageBlobDeviceKeepsTheBlockDeviceContract) {
  BlobUri b = container_.WithBlob("contract.vhd");
  ASSERT_THAT(client_->CreatePageBlob(b, 64 * 4096), IsOk());
  PageBlobDevice device(client_.get(), b, 64 * 4096);
  io::testing::ExpectBlockDeviceContract(device);
}

TEST_P(BlobConformance, PageBlobWritesClearsRangesAndReads) {
  BlobUri b = container_.WithBlob("disk.vhd");
  const uint64_t size = 8u << 20;
  ASSERT_THAT(client_->CreatePageBlob(b, size), IsOk());
  std::string first(4096, 'a'), second(kMaxPutPageBytes, 'b');
  ASSERT_THAT(client_->PutPages(b, 0, first), IsOk());
  ASSERT_THAT(client_->PutPages(b, 4u << 20, second), IsOk());
  ASSERT_THAT(client_->ClearPages(b, 1024, 1024), IsOk());
  EXPECT_THAT(client_->GetPageRanges(b),
              IsOkAndHolds(ElementsAre(ByteRange{0, 1024}, ByteRange{2048, 2048}, ByteRange{4u << 20, 4u << 20})));
  EXPECT_THAT(client_->GetBlob(b, ByteRange{512, 1024}), IsOkAndHolds(std::string(512, 'a') + std::string(512, '\0')));
  EXPECT_EQ(client_->GetProperties(b)->content_length, size);
  // Misaligned or oversized writes are refused before any request is sent.
  EXPECT_THAT(client_->PutPages(b, 100, std::string(512, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("512")));
  EXPECT_THAT(client_->PutPages(b, 0, std::string(500, 'x')), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->PutPages(b, 0, std::string(kMaxPutPageBytes + 512, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 MiB")));
  EXPECT_THAT(client_->CreatePageBlob(container_.WithBlob("odd"), 1000), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(BlobConformance, SnapshotsFreezeContentAndCarryMetadata) {
  BlobUri b = container_.WithBlob("disk0.vhd");
  ASSERT_THAT(client_->CreatePageBlob(b, 1 << 20), IsOk());
  ASSERT_THAT(client_->PutPages(b, 0, std::string(512, '1')), IsOk());
  absl::StatusOr<BlobUri> snap = client_->SnapshotBlob(b, {{"taskId", "e07354cf_1"}, {"backupKind", "app"}});
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_FALSE(snap->snapshot().empty());
  ASSERT_THAT(client_->PutPages(b, 0, std::string(512, '2')), IsOk());
  EXPECT_THAT(client_->GetBlob(*snap, ByteRange{0, 512}), IsOkAndHolds(std::string(512, '1')));
  EXPECT_THAT(client_->GetBlob(b, ByteRange{0, 512}), IsOkAndHolds(std::string(512, '2')));
  EXPECT_EQ(client_->GetProperties(*snap)->metadata.at("taskid"), "e07354cf_1");

  ListOptions lo;
  lo.include_snapshots = true;
  lo.include_metadata = true;
  absl::StatusOr<std::vector<BlobItem>> items = client_->ListBlobs(container_, lo);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 2u);
  const BlobItem& s = (*items)[0].snapshot.empty() ? (*items)[1] : (*items)[0];
  EXPECT_EQ(s.snapshot, snap->snapshot());
  EXPECT_EQ(s.properties.metadata.at("taskId"), "e07354cf_1");  // XML keeps the case
  EXPECT_EQ(s.properties.blob_type, "PageBlob");

  // A blob with snapshots is only deleted together with them.
  absl::Status del = client_->DeleteBlob(b);
  EXPECT_THAT(del, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(AzureErrorCodeOf(del), "SnapshotsPresent");
  ASSERT_THAT(client_->DeleteBlob(b, /*include_snapshots=*/true), IsOk());
  absl::StatusOr<std::string> gone = client_->GetBlob(b);
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(AzureErrorCodeOf(gone.status()), "BlobNotFound");
}

TEST_P(BlobConformance, ListingFollowsMarkersAndPrefixes) {
  std::set<std::string> names = {"a/1", "a/2", "a/\xC3\xA9t\xC3\xA9 file.txt", "b/1", "empty"};
  for (const std::string& n : names) {
    ASSERT_THAT(client_->PutBlockBlob(container_.WithBlob(n), n == "empty" ? "" : n), IsOk()) << n;
  }
  ListOptions lo;
  lo.page_size = 2;
  absl::StatusOr<std::vector<BlobItem>> all = client_->ListBlobs(container_, lo);
  ASSERT_TRUE(all.ok()) << all.status();
  std::set<std::string> listed;
  for (const BlobItem& i : *all) listed.insert(i.name);
  EXPECT_EQ(listed, names);
  lo.prefix = "a/";
  EXPECT_EQ(client_->ListBlobs(container_, lo)->size(), 3u);
  EXPECT_THAT(client_->GetBlob(container_.WithBlob("a/\xC3\xA9t\xC3\xA9 file.txt")),
              IsOkAndHolds(std::string("a/\xC3\xA9t\xC3\xA9 file.txt")));
}

TEST_P(BlobConformance, SasAuthentication) {
  absl::Time now = absl::Now();
  SasOptions o;
  o.container = container_.container();
  o.permissions = "racwdl";
  o.start = now - absl::Minutes(5);
  o.expiry = now + absl::Hours(1);
  absl::StatusOr<SasToken> token = MakeServiceSas(*credential_, o);
  ASSERT_TRUE(token.ok());
  BlobUri with_sas = container_.WithSas(token->query).WithBlob("via-sas.txt");
  ASSERT_THAT(with_sas.CheckSasUsable(now), IsOk());
  ASSERT_THAT(sas_client_->PutBlockBlob(with_sas, "hello"), IsOk());
  EXPECT_THAT(sas_client_->GetBlob(with_sas), IsOkAndHolds(std::string("hello")));
  EXPECT_THAT(sas_client_->ListBlobs(with_sas)->size(), 1u);

  if (backend_.verifies_signatures) {
    // A tampered signature is refused (403, never retried) and the error does not echo the SAS.
    std::string bad = token->query;
    bad[bad.find("sig=") + 5] ^= 1;
    absl::StatusOr<std::string> r = sas_client_->GetBlob(container_.WithSas(bad).WithBlob("via-sas.txt"));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
    // Azure says AuthenticationFailed; Azurite says AuthorizationFailure. Both are final 403s.
    EXPECT_THAT(AzureErrorCodeOf(r.status()), ::testing::AnyOf("AuthenticationFailed", "AuthorizationFailure"));
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr(bad.substr(bad.find("sig=") + 4, 10))));
    // A read-only SAS cannot write.
    o.permissions = "r";
    BlobUri read_only = container_.WithSas(MakeServiceSas(*credential_, o)->query).WithBlob("via-sas.txt");
    EXPECT_THAT(sas_client_->PutBlockBlob(read_only, "x"), StatusIs(absl::StatusCode::kPermissionDenied));
  }
  // No signature at all.
  EXPECT_THAT(sas_client_->GetBlob(container_.WithSas("").WithBlob("via-sas.txt")),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_P(BlobConformance, RetriesTransientFailuresButNotAuthFailures) {
  if (!backend_.fake) GTEST_SKIP() << "fault injection lives in the fake; the HTTP fault proxy covers Azurite";
  BlobUri b = container_.WithBlob("r.txt");
  backend_.fake->FailNext(2, 503, "ServerBusy");
  int before = backend_.fake->request_count();
  ASSERT_THAT(client_->PutBlockBlob(b, "x"), IsOk());
  EXPECT_EQ(backend_.fake->request_count() - before, 3);
  backend_.fake->FailNext(1, 0, "");
  EXPECT_THAT(client_->GetBlob(b), IsOkAndHolds(std::string("x")));
  backend_.fake->FailNext(1, 403, "AuthenticationFailed");
  before = backend_.fake->request_count();
  EXPECT_THAT(client_->GetBlob(b), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(backend_.fake->request_count() - before, 1);
  backend_.fake->FailNext(100, 503, "ServerBusy");
  absl::Status busy = client_->GetBlob(b).status();
  EXPECT_THAT(busy, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("ServerBusy")));
  backend_.fake->FailNext(0, 0, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobConformance, ::testing::Values("fake", "azurite", "azurite_via_proxy"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Leases and conditional writes, as the vault uses them for one writer per protected item. Judged by Azurite only
// (the in-memory fake does not implement leases, and nothing of ours that takes a lease runs against it).
class BlobLeases : public BlobConformance {};

TEST_P(BlobLeases, OneHolderAtATimeAndConditionalCreates) {
  // Both backends reach one Azurite: the blobs are named per backend.
  BlobUri lock = container_.WithBlob(GetParam() + "/writer.lock");
  ASSERT_THAT(client_->PutBlockBlob(lock, ""), IsOk());
  absl::StatusOr<std::string> first = client_->AcquireLease(lock, 60);
  ASSERT_THAT(first.status(), IsOk());
  absl::StatusOr<std::string> second = client_->AcquireLease(lock, 60);
  EXPECT_THAT(second.status(), Not(IsOk()));
  EXPECT_EQ(AzureErrorCodeOf(second.status()), "LeaseAlreadyPresent");
  EXPECT_EQ(HttpStatusOf(second.status()), 409);
  // Writes to a leased blob need the lease.
  EXPECT_THAT(client_->SetMetadata(lock, {{"holder", "b"}}), Not(IsOk()));
  EXPECT_THAT(client_->SetMetadata(lock, {{"holder", "a"}}, {*first, false}), IsOk());
  EXPECT_EQ(client_->GetProperties(lock)->metadata.at("holder"), "a");
  EXPECT_THAT(client_->RenewLease(lock, *first), IsOk());
  EXPECT_THAT(client_->RenewLease(lock, "11111111-2222-3333-4444-555555555555"), Not(IsOk()));
  EXPECT_THAT(client_->ReleaseLease(lock, *first), IsOk());
  absl::StatusOr<std::string> again = client_->AcquireLease(lock, 15);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_THAT(client_->BreakLease(lock), IsOk());  // a dead holder's lease, ended by another
  EXPECT_THAT(client_->RenewLease(lock, *again), Not(IsOk()));
  absl::StatusOr<std::string> after_break = client_->AcquireLease(lock, 15);
  ASSERT_THAT(after_break.status(), IsOk());
  EXPECT_THAT(client_->ReleaseLease(lock, *after_break), IsOk());

  BlobUri point = container_.WithBlob(GetParam() + "/recovery-points/rp-0002.json");
  WriteConditions only_new;
  only_new.if_none_match_any = true;
  EXPECT_THAT(client_->PutBlockBlob(point, "first", {}, "application/json", only_new), IsOk());
  EXPECT_THAT(client_->PutBlockBlob(point, "second", {}, "application/json", only_new),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(client_->GetBlob(point), IsOkAndHolds(std::string("first")));
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobLeases, ::testing::Values("azurite", "azurite_via_proxy"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace vmb::blob
