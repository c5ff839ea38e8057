// The vault against a real blob server (Azurite): recovery point 1 from imported images, an incremental backup that
// sends only what changed, restores byte for byte, and interrupted copies and uploads that resume without re-sending.
#include "offline_seed/vault/vault.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/http/recording_transport.h"
#include "common/json/json.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/agent/tree_testing.h"
#include "offline_seed/testing/initiate_options.h"

namespace vmb::vault {
namespace {

bool IsPutBlock(const http::HttpRequest& r) { return absl::StrContains(r.url, "blockid="); }

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
    ASSERT_TRUE(azurite.ok()) << azurite.status();
    azurite_ = std::move(*azurite);
    transport_ = http::NewCurlTransport();
    cred_ = *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey);
    client_ = std::make_unique<blob::BlobClient>(transport_.get(), cred_);
    account_ = *blob::BlobUri::ForAccount(azurite_->endpoint());

    // A source of 100 files of 160 KiB (incompressible) plus folders, a symlink and an empty file.
    src_ = dir_ + "/src";
    ASSERT_THAT(file::MakeDirs(src_ + "/data/empty-folder"), IsOk());
    for (int i = 0; i < 100; ++i) {
      ASSERT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, i),
                                        crypto::SecureRandom().Bytes(160u << 10), 0640),
                  IsOk());
    }
    ASSERT_THAT(file::WriteFileAtomic(src_ + "/empty", "", 0600), IsOk());
    ASSERT_THAT(file::WriteFileAtomic(src_ + "/caf\xC3\xA9.txt", "non-ASCII name", 0644), IsOk());
    ASSERT_EQ(::symlink("data/f000.bin", (src_ + "/link").c_str()), 0);

    // The initial backup staged, then "imported": each image written into a page blob as the datacenter does.
    staging_ = dir_ + "/staging";
    ASSERT_THAT(offline::InitiateOfflineBackup(offline::testing::TestInitiateOptions({src_}, staging_)).status(),
                IsOk());
    absl::StatusOr<offline::proto::Catalogue> catalogue = offline::ReadCatalogue(staging_);
    ASSERT_THAT(catalogue.status(), IsOk());
    catalogue_ = *std::move(catalogue);
    ASSERT_THAT(client_->CreateContainer(account_.WithContainer("offline")), IsOk());
    for (uint32_t i = 0; i < catalogue_.images(); ++i) {
      std::string image = *file::ReadFile(absl::StrFormat("%s/images/image-%04u.vhd", staging_, i));
      blob::BlobUri b = account_.WithContainer("offline").WithBlob(absl::StrFormat("seedjob1/image-%04u.vhd", i));
      ASSERT_THAT(client_->CreatePageBlob(b, image.size()), IsOk());
      for (uint64_t off = 0; off < image.size(); off += blob::kMaxPutPageBytes) {
        ASSERT_THAT(client_->PutPages(b, off, image.substr(off, blob::kMaxPutPageBytes)), IsOk());
      }
      images_.push_back(b);
    }
  }

  VaultOptions Options(blob::BlobClient* client) {
    VaultOptions o;
    o.client = client;
    o.container = account_.WithContainer("recoveryvault");
    o.item = "seedjob1";
    o.block_bytes = 256u << 10;  // small blocks, so an interruption falls between them
    o.clock = &clock_;
    return o;
  }

  // A client whose transport fails every request after the `n`th that `counts` picks (every request, unless given),
  // whatever other requests came between and from whichever thread (no retries).
  std::unique_ptr<blob::BlobClient> FailingClient(int n,
                                                  std::function<bool(const http::HttpRequest&)> counts = nullptr) {
    auto count = std::make_shared<std::atomic<int>>(0);
    auto failing = std::make_shared<std::atomic<bool>>(false);
    faulty_ = std::make_unique<http::RecordingTransport>(
        [this, count, failing, n, counts](const http::HttpRequest& r) -> absl::StatusOr<http::HttpResponse> {
          if (failing->load()) return absl::UnavailableError("injected: connection reset");
          if ((!counts || counts(r)) && count->fetch_add(1) + 1 >= n) failing->store(true);  // this one goes through
          return transport_->Send(r);
        });
    blob::BlobClientOptions bo;
    bo.retry.max_attempts = 1;
    return std::make_unique<blob::BlobClient>(faulty_.get(), cred_, bo);
  }

  std::string Catalogue() const { return offline::CataloguePath(staging_); }

  std::string dir_, src_, staging_;
  std::unique_ptr<vmb::testing::Azurite> azurite_;
  std::unique_ptr<http::HttpTransport> transport_, faulty_;
  blob::SharedKeyCredential cred_ = *blob::SharedKeyCredential::Create("a", "AAAA");
  std::unique_ptr<blob::BlobClient> client_;
  blob::BlobUri account_;
  offline::proto::Catalogue catalogue_;
  std::vector<blob::BlobUri> images_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(VaultTest, SeedIncrementalAndRestoreByteForByte) {
  Vault vault(Options(client_.get()));
  EXPECT_THAT(vault.Backup({src_}, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no recovery point yet")));
  absl::StatusOr<BackupOutcome> seeded = vault.Seed(images_, Catalogue());
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_EQ(seeded->point.number(), 1);
  EXPECT_EQ(seeded->point.kind(), "Seeded");
  EXPECT_EQ(seeded->point.files(), 102u);
  EXPECT_EQ(seeded->point.createdat(), "2023-11-14T22:13:20Z");  // the vault's clock stamps the point
  EXPECT_EQ(vault.bytes_uploaded(), 0u);                         // the seed comes from the import, not over the network
  EXPECT_THAT(vault.Seed(images_, Catalogue()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("seedjob1 already has 1 recovery point(s); the offline seed is copied only once")));

  ASSERT_THAT(vault.Restore(1, dir_ + "/rp1"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/rp1/0"), 106);

  // Change 1% of the data: one file of the hundred rewritten.
  std::string old_f7 = *file::ReadFile(src_ + "/data/f007.bin");
  ASSERT_THAT(file::WriteFileAtomic(src_ + "/data/f007.bin", crypto::SecureRandom().Bytes(160u << 10), 0640), IsOk());
  absl::StatusOr<BackupOutcome> incremental = vault.Backup({src_}, {});
  ASSERT_TRUE(incremental.ok()) << incremental.status();
  EXPECT_EQ(incremental->point.number(), 2);
  EXPECT_EQ(incremental->point.kind(), "Incremental");
  EXPECT_EQ(incremental->point.createdat(), "2023-11-14T22:13:20Z");
  EXPECT_GT(incremental->point.bytesuploaded(), 150u << 10);                             // the changed file went
  EXPECT_LE(incremental->point.bytesuploaded(), incremental->point.sourcebytes() / 50);  // and little else
  EXPECT_EQ(incremental->files_unchanged, 101u);  // every other file was not even read

  ASSERT_THAT(vault.Restore(2, dir_ + "/rp2"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/rp2/0"), 106);
  // Recovery point 1 still has the old file.
  EXPECT_TRUE(*file::ReadFile(dir_ + "/rp1/0/data/f007.bin") == old_f7);
  ASSERT_THAT(file::MakeDirs(dir_ + "/rp1b"), IsOk());
  ASSERT_THAT(vault.Restore(1, dir_ + "/rp1b"), IsOk());
  EXPECT_TRUE(*file::ReadFile(dir_ + "/rp1b/0/data/f007.bin") == old_f7);

  // A rewrite that keeps the size and puts the old mtime back is still seen (the ctime moved).
  std::string f10 = src_ + "/data/f010.bin";
  struct stat before;
  ASSERT_EQ(::stat(f10.c_str(), &before), 0);
  std::string fresh = crypto::SecureRandom().Bytes(160u << 10);
  {
    FILE* f = std::fopen(f10.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(fresh.data(), 1, fresh.size(), f), fresh.size());
    std::fclose(f);
  }
  timespec times[2] = {before.st_mtim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, f10.c_str(), times, 0), 0);
  absl::StatusOr<BackupOutcome> third = vault.Backup({src_}, {});
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->files_unchanged, 101u);
  ASSERT_THAT(vault.Restore(3, dir_ + "/rp3"), IsOk());
  EXPECT_TRUE(*file::ReadFile(dir_ + "/rp3/0/data/f010.bin") == fresh);
  // A full scan reads everything and finds nothing new: every small file has the bytes it had (its digest), so it
  // keeps its place in its segment.
  absl::StatusOr<BackupOutcome> fourth = vault.Backup({src_}, {}, /*full_scan=*/true);
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_EQ(fourth->files_unchanged, 0u);
  EXPECT_EQ(fourth->files_same_bytes, 101u);  // all but the empty file
  EXPECT_EQ(fourth->point.newchunks(), 0u);
  // Every file's mode changed (its ctime moved): all are read again, none is sent again.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(::chmod(absl::StrFormat("%s/data/f%03d.bin", src_, i).c_str(), 0604), 0);
  }
  absl::StatusOr<BackupOutcome> fifth = vault.Backup({src_}, {});
  ASSERT_TRUE(fifth.ok()) << fifth.status();
  EXPECT_EQ(fifth->files_same_bytes, 100u);
  EXPECT_EQ(fifth->point.newchunks(), 0u);
  ASSERT_THAT(vault.Restore(5, dir_ + "/rp5"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/rp5/0"), 106);

  // Listing is one request: the figures come from the recovery points' metadata, no body is read.
  http::RecordingTransport counting([this](const http::HttpRequest& r) { return transport_->Send(r); });
  blob::BlobClient counted(&counting, cred_);
  absl::StatusOr<std::vector<proto::RecoveryPoint>> list = Vault(Options(&counted)).List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 5u);
  EXPECT_EQ((*list)[1].number(), 2);
  EXPECT_EQ((*list)[1].entries_size(), 0);
  EXPECT_EQ((*list)[3].newchunks(), fourth->point.newchunks());
  EXPECT_EQ((*list)[2].sourcebytes(), third->point.sourcebytes());
  EXPECT_EQ(counting.requests().size(), 1u);

  // Bad input: a recovery point that does not exist, a target that is not empty.
  EXPECT_THAT(vault.Restore(7, dir_ + "/rp7"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("there are: 1, 2, 3, 4")));
  EXPECT_THAT(vault.Restore(2, dir_ + "/rp2"), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));
}

// Two backups of one item started together, 20 rounds (a file changed before each): one writer at a time. Each run
// either commits a recovery point of its own number or fails at once naming the other run; the points are 1..N
// without a gap or a replaced one, and the last restores to the source.
TEST_F(VaultTest, RacingBackupsNeverShareARecoveryPoint) {
  ASSERT_TRUE(Vault(Options(client_.get())).Seed(images_, Catalogue()).ok());
  int committed = 1, refused = 0;
  for (int round = 0; round < 20; ++round) {
    ASSERT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, round),
                                      crypto::SecureRandom().Bytes(1000), 0640),
                IsOk());
    std::vector<absl::StatusOr<BackupOutcome>> outcomes(2, absl::UnknownError("not run"));
    std::vector<std::thread> runs;
    for (int k = 0; k < 2; ++k) {
      runs.emplace_back([&, k] {
        auto transport = http::NewCurlTransport();
        blob::BlobClient client(transport.get(), cred_);
        outcomes[k] = Vault(Options(&client)).Backup({src_}, {});
      });
    }
    for (auto& t : runs) t.join();
    std::set<int> numbers;
    for (const auto& o : outcomes) {
      if (o.ok()) {
        EXPECT_TRUE(numbers.insert(o->point.number()).second) << "round " << round << ": two runs got one number";
        ++committed;
      } else {
        EXPECT_THAT(o.status(),
                    StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another backup of seedjob1 is running")))
            << "round " << round;
        ++refused;
      }
    }
    EXPECT_GE(numbers.size(), 1u) << "round " << round << ": neither run committed";
  }
  absl::StatusOr<std::vector<proto::RecoveryPoint>> points = Vault(Options(client_.get())).List();
  ASSERT_THAT(points.status(), IsOk());
  ASSERT_EQ(static_cast<int>(points->size()), committed);
  for (int i = 0; i < committed; ++i) EXPECT_EQ((*points)[i].number(), i + 1);
  std::printf("racing backups: %d committed, %d refused at once\n", committed - 1, refused);
  ASSERT_THAT(Vault(Options(client_.get())).Restore(committed, dir_ + "/last"), IsOk());
  offline::testing::ExpectSameTree(src_, dir_ + "/last/0");
}

// A writer that stalls past its lease (60 s without renewal) while another backup takes the item over and commits the
// same recovery point number must not touch what the other committed: not its pack, not its index. Here the stall is
// simulated as it sends its pack's first block: the lease is broken and a competing backup of changed data commits
// point 2 (its pack of the same name, its index) before the stalled writer goes on.
TEST_F(VaultTest, AWriterThatLostItsLeaseNeverOverwritesACommittedPoint) {
  ASSERT_TRUE(Vault(Options(client_.get())).Seed(images_, Catalogue()).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, i),
                                      crypto::SecureRandom().Bytes(160u << 10), 0640),
                IsOk());
  }
  const blob::BlobUri lock = account_.WithContainer("recoveryvault").WithBlob("seedjob1/writer.lock");
  bool competed = false;
  absl::Status competitor = absl::UnknownError("not run");
  http::RecordingTransport stalling([&](const http::HttpRequest& r) -> absl::StatusOr<http::HttpResponse> {
    if (!competed && r.method == "PUT" && absl::StrContains(r.url, "/packs/rp-0002") &&
        absl::StrContains(r.url, "comp=block") && !absl::StrContains(r.url, "comp=blocklist")) {
      competed = true;
      EXPECT_THAT(client_->BreakLease(lock), IsOk());  // what 60 s without renewal amounts to
      for (int i = 0; i < 10; ++i) {                   // the competitor backs up other data
        EXPECT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, i),
                                          crypto::SecureRandom().Bytes(150u << 10), 0640),
                    IsOk());
      }
      competitor = Vault(Options(client_.get())).Backup({src_}, {}).status();
    }
    return transport_->Send(r);
  });
  blob::BlobClient stalled_client(&stalling, cred_);
  absl::StatusOr<BackupOutcome> stalled = Vault(Options(&stalled_client)).Backup({src_}, {});
  ASSERT_TRUE(competed) << "the pack was never written";
  ASSERT_THAT(competitor, IsOk());
  EXPECT_THAT(stalled.status(), StatusIs(absl::StatusCode::kAborted));
  // Point 2 is the competitor's, whole: it restores to the data the competitor saw.
  ASSERT_EQ(Vault(Options(client_.get())).List()->size(), 2u);
  ASSERT_THAT(Vault(Options(client_.get())).Restore(2, dir_ + "/out"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/out/0"), 106);
}

TEST_F(VaultTest, InterruptedVaultCopyResumesWithoutCopyingAgain) {
  std::unique_ptr<blob::BlobClient> flaky = FailingClient(30);  // part of the way into the second image
  Vault broken(Options(flaky.get()));
  // The injected fault, and nothing else, stops it.
  EXPECT_THAT(broken.Seed(images_, Catalogue()), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected")));
  EXPECT_TRUE(Vault(Options(client_.get())).List()->empty());  // nothing committed

  Vault vault(Options(client_.get()));
  absl::StatusOr<BackupOutcome> seeded = vault.Seed(images_, Catalogue());
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_GT(seeded->blocks_reused, 0u);  // blocks the interrupted run had put were not copied again
  ASSERT_THAT(vault.Restore(1, dir_ + "/out"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/out/0"), 106);
}

TEST_F(VaultTest, InterruptedIncrementalResumesWithoutResending) {
  Vault vault(Options(client_.get()));
  ASSERT_TRUE(vault.Seed(images_, Catalogue()).ok());
  for (int i = 0; i < 40; ++i) {  // 40% of the files change: several segments, so several blocks, to send
    ASSERT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, i * 5 / 2),
                                      crypto::SecureRandom().Bytes(160u << 10), 0640),
                IsOk());
  }
  std::unique_ptr<blob::BlobClient> flaky = FailingClient(1, IsPutBlock);  // after the first block
  Vault broken(Options(flaky.get()));
  EXPECT_THAT(broken.Backup({src_}, {}), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected")));
  uint64_t sent_before_fault = broken.bytes_uploaded();
  EXPECT_GT(sent_before_fault, 0u);
  EXPECT_EQ(vault.List()->size(), 1u);  // the interrupted recovery point was not committed

  absl::StatusOr<BackupOutcome> resumed = vault.Backup({src_}, {});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GT(resumed->blocks_reused, 0u);
  uint64_t all_new = 40u * (160u << 10);
  EXPECT_LE(resumed->point.bytesuploaded() + sent_before_fault, all_new + all_new / 20);  // nothing sent twice
  EXPECT_LT(resumed->point.bytesuploaded(), all_new);
  ASSERT_THAT(vault.Restore(2, dir_ + "/out"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/out/0"), 106);
}

// An incremental interrupted after its pack was committed (Put Block List), before its recovery point was: the run
// that resumes finds the pack's blocks committed and sends none of them again.
TEST_F(VaultTest, AnIncrementalInterruptedAfterItsPackWasCommittedSendsItOnce) {
  Vault vault(Options(client_.get()));
  ASSERT_TRUE(vault.Seed(images_, Catalogue()).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(file::WriteFileAtomic(absl::StrFormat("%s/data/f%03d.bin", src_, i * 5),
                                      crypto::SecureRandom().Bytes(160u << 10), 0640),
                IsOk());
  }
  std::unique_ptr<blob::BlobClient> flaky = FailingClient(1, [](const http::HttpRequest& r) {
    return r.method == "PUT" && absl::StrContains(r.url, "/packs/") && absl::StrContains(r.url, "comp=blocklist");
  });
  Vault broken(Options(flaky.get()));
  // The next request fails (a lease renewal, or the point's own writes: either stops the run).
  absl::Status interrupted = broken.Backup({src_}, {}).status();
  EXPECT_FALSE(interrupted.ok());
  EXPECT_THAT(std::string(interrupted.message()), HasSubstr("injected"));
  EXPECT_GE(broken.bytes_uploaded(), 20u * (160u << 10));  // the whole pack went, and was committed
  EXPECT_EQ(vault.List()->size(), 1u);                     // the recovery point was not

  absl::StatusOr<BackupOutcome> resumed = vault.Backup({src_}, {});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GT(resumed->blocks_reused, 0u);
  EXPECT_EQ(resumed->blocks_uploaded, 0u);
  EXPECT_EQ(resumed->point.bytesuploaded(), 0u);
  ASSERT_THAT(vault.Restore(2, dir_ + "/out"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/out/0"), 106);
}

// A restore reads the packs in ranges that span files (Azurite spends about as much on a request as on 4 MiB of
// data), fetches a chunk used several times once, and still writes every file byte for byte.
TEST_F(VaultTest, RestoreReadsLargeRangesAcrossFilesAndSharedChunksOnce) {
  Vault vault(Options(client_.get()));
  ASSERT_TRUE(vault.Seed(images_, Catalogue()).ok());
  // Duplicates: a copy of a seeded file, and a file that is one random block four times over.
  ASSERT_THAT(file::WriteFileAtomic(src_ + "/copy-of-f003.bin", *file::ReadFile(src_ + "/data/f003.bin"), 0600),
              IsOk());
  std::string block = crypto::SecureRandom().Bytes(300u << 10);
  ASSERT_THAT(file::WriteFileAtomic(src_ + "/repeated.bin", block + block + block + block, 0600), IsOk());
  ASSERT_TRUE(vault.Backup({src_}, {}).ok());

  http::RecordingTransport counting([this](const http::HttpRequest& r) { return transport_->Send(r); });
  blob::BlobClient counted(&counting, cred_);
  ASSERT_THAT(Vault(Options(&counted)).Restore(2, dir_ + "/out"), IsOk());
  EXPECT_EQ(offline::testing::ExpectSameTree(src_, dir_ + "/out/0"), 108);
  size_t range_reads = 0;
  for (const http::HttpRequest& r : counting.requests()) {
    range_reads += r.method == "GET" && absl::StrContains(r.url, "/packs/");
  }
  // 16.4 MB of chunks for 104 files: a request per file would be over a hundred.
  EXPECT_GT(range_reads, 0u);
  EXPECT_LE(range_reads, 16u);
}

TEST_F(VaultTest, DamagedImportIsRefusedUntilRepaired) {
  // The import left a range unwritten (a corrupted range is never written): zeros where a chunk should be.
  std::string good = *client_->GetBlob(images_[1], blob::ByteRange{0, 4096});
  ASSERT_THAT(client_->ClearPages(images_[1], 0, 4096), IsOk());
  Vault vault(Options(client_.get()));
  ASSERT_GT(images_.size(), 1u);
  EXPECT_THAT(vault.Seed({images_[0]}, Catalogue()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the catalogue names image 1 but only 1 imported image(s) were given")));
  EXPECT_THAT(vault.Seed(images_, Catalogue()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("seedjob1/image-0001.vhd at offset 0")));
  EXPECT_TRUE(vault.List()->empty());
  ASSERT_THAT(client_->PutPages(images_[1], 0, good), IsOk());  // what the repair step sends
  absl::StatusOr<BackupOutcome> seeded = vault.Seed(images_, Catalogue());
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_GT(seeded->blocks_reused, 0u);
}

}  // namespace
}  // namespace vmb::vault
