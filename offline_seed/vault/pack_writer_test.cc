// The incremental pack: blocks named by their content, staged ones not sent again, and an index whose offsets are
// the pack's. Against a recording transport that plays the blob service (every write accepted).
#include "offline_seed/vault/pack_writer.h"

#include "absl/strings/match.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/http/recording_transport.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::vmb::testing::IsOk;

class PackWriterTest : public ::testing::Test {
 protected:
  PackWriterTest()
      : transport_([](const http::HttpRequest&) -> absl::StatusOr<http::HttpResponse> {
          http::HttpResponse r;
          r.status = 201;
          return r;
        }),
        client_(&transport_, *blob::SharedKeyCredential::Create("acct", "AAAA")) {}

  PackWriterOptions Options(StagedBlocks staged = {}) {
    PackWriterOptions o;
    o.client = &client_;
    o.pack_name = "item/packs/rp-0002";
    o.pack = blob::BlobUri::ForAccount("http://127.0.0.1:1/acct")->WithContainer("vault").WithBlob(o.pack_name);
    o.staged = std::move(staged);
    o.block_bytes = 100;  // raw bytes per block
    o.parallelism = 1;
    o.bytes_uploaded = &uploaded_;
    return o;
  }

  http::RecordingTransport transport_;
  blob::BlobClient client_;
  std::atomic<uint64_t> uploaded_{0};
};

std::string Hash(char c) { return std::string(64, c); }

TEST_F(PackWriterTest, BlocksAreNamedByTheirChunksAndTheIndexUsesPackOffsets) {
  PackWriter w(Options());
  ASSERT_THAT(w.Add(Hash('a'), 60, "AAAA"), IsOk());
  ASSERT_THAT(w.Add(Hash('b'), 60, "BBBBBB"), IsOk());  // 120 raw bytes: block 1 is full
  ASSERT_THAT(w.Add(Hash('c'), 10, "CC"), IsOk());      // the last, partly filled block
  ASSERT_THAT(w.Close(/*flush_last=*/true), IsOk());
  absl::StatusOr<proto::PackIndex> index = w.Commit();
  ASSERT_THAT(index.status(), IsOk());
  EXPECT_EQ(w.blocks_uploaded(), 2u);
  EXPECT_EQ(w.blocks_reused(), 0u);
  EXPECT_EQ(uploaded_.load(), 12u);
  ASSERT_EQ(index->chunks_size(), 3);
  EXPECT_EQ(index->chunks(0).offset(), 0u);
  EXPECT_EQ(index->chunks(1).offset(), 4u);
  EXPECT_EQ(index->chunks(2).offset(), 10u);  // after block 1's 10 bytes
  EXPECT_EQ(index->chunks(2).compressedlength(), 2u);
  EXPECT_EQ(index->chunks(2).length(), 10u);
  for (const auto& c : index->chunks()) EXPECT_EQ(c.pack(), "item/packs/rp-0002");
  // Last: the block list, naming both blocks by SHA-256 of their chunk hashes.
  const http::HttpRequest list = transport_.requests().back();  // a copy: requests() returns a temporary
  EXPECT_THAT(list.url, ::testing::HasSubstr("comp=blocklist"));
  EXPECT_THAT(list.body, ::testing::HasSubstr(crypto::Base64Encode(crypto::Sha256(Hash('a') + Hash('b')))));
  EXPECT_THAT(list.body, ::testing::HasSubstr(crypto::Base64Encode(crypto::Sha256(Hash('c')))));
}

TEST_F(PackWriterTest, ABlockStagedByAnInterruptedRunIsNotSentAgain) {
  const std::string first = crypto::Base64Encode(crypto::Sha256(Hash('a') + Hash('b')));
  PackWriter w(Options({{first, 10}}));
  ASSERT_THAT(w.Add(Hash('a'), 60, "AAAA"), IsOk());
  ASSERT_THAT(w.Add(Hash('b'), 60, "BBBBBB"), IsOk());
  ASSERT_THAT(w.Add(Hash('c'), 10, "CC"), IsOk());
  ASSERT_THAT(w.Close(true), IsOk());
  ASSERT_THAT(w.Commit().status(), IsOk());
  EXPECT_EQ(w.blocks_reused(), 1u);
  EXPECT_EQ(w.blocks_uploaded(), 1u);
  EXPECT_EQ(uploaded_.load(), 2u);  // only "CC"
  // A staged block of another size (a different cut) is sent.
  PackWriter other(Options({{first, 9}}));
  ASSERT_THAT(other.Add(Hash('a'), 60, "AAAA"), IsOk());
  ASSERT_THAT(other.Add(Hash('b'), 60, "BBBBBB"), IsOk());
  ASSERT_THAT(other.Close(true), IsOk());
  EXPECT_EQ(other.blocks_uploaded(), 1u);
}

TEST_F(PackWriterTest, NothingNewCommitsNoBlockList) {
  PackWriter w(Options());
  ASSERT_THAT(w.Close(true), IsOk());
  absl::StatusOr<proto::PackIndex> index = w.Commit();
  ASSERT_THAT(index.status(), IsOk());
  EXPECT_EQ(index->chunks_size(), 0);
  EXPECT_TRUE(transport_.requests().empty());
}

}  // namespace
}  // namespace vmb::vault
