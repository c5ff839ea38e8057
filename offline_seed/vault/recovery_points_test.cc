// The recovery-point index against a real blob server (Azurite): a commit is never replaced, listing is one request
// (a point without its metadata summary is still read), a missing point names the ones that exist, trees and chunk
// indexes are streams read back whole (and points written before the streams still read), damage is data loss.
#include "offline_seed/vault/recovery_points.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/http/curl_transport.h"
#include "common/http/recording_transport.h"
#include "common/json/json.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

class RecoveryPointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
    ASSERT_TRUE(azurite.ok()) << azurite.status();
    azurite_ = std::move(*azurite);
    transport_ = http::NewCurlTransport();
    client_ = std::make_unique<blob::BlobClient>(transport_.get(), cred_);
    container_ = blob::BlobUri::ForAccount(azurite_->endpoint())->WithContainer("vault");
  }

  static proto::RecoveryPoint Point(int number) {
    proto::RecoveryPoint rp;
    rp.set_number(number);
    rp.set_kind(number == 1 ? "Seeded" : "Incremental");
    rp.set_files(number * 10);
    return rp;
  }
  static std::string Hash(const std::string& chunk) { return crypto::Base16Encode(crypto::Sha256(chunk)); }
  static offline::proto::Chunk Chunk(const std::string& chunk, const std::string& pack) {
    offline::proto::Chunk c;
    c.set_sha256(Hash(chunk));
    c.set_pack(pack);
    c.set_offset(chunk.size());
    return c;
  }
  // The streams of a point: `files` entries and one chunk.
  static PointStreams Streams(int files, const std::string& chunk, const std::string& pack) {
    absl::StatusOr<PointStreams> s = PointStreams::Create();
    EXPECT_THAT(s.status(), IsOk());
    for (int i = 0; i < files; ++i) {
      offline::proto::Entry e;
      e.set_path(absl::StrCat("0/f", i));
      EXPECT_THAT(s->tree->records().AddEntry(e), IsOk());
    }
    EXPECT_THAT(s->chunks->records().AddChunk(Chunk(chunk, pack)), IsOk());
    return *std::move(s);
  }
  std::vector<std::string> Paths(RecoveryPoints& points, const proto::RecoveryPoint& rp) {
    std::vector<std::string> paths;
    EXPECT_THAT(points.ForEachEntry(rp,
                                    [&](offline::proto::Entry e) {
                                      paths.push_back(e.path());
                                      return absl::OkStatus();
                                    }),
                IsOk());
    return paths;
  }

  std::unique_ptr<vmb::testing::Azurite> azurite_;
  std::unique_ptr<http::HttpTransport> transport_;
  blob::SharedKeyCredential cred_ =
      *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey);
  std::unique_ptr<blob::BlobClient> client_;
  blob::BlobUri container_;
};

TEST_F(RecoveryPointsTest, CommitListGetAndLoadChunks) {
  RecoveryPoints points(client_.get(), container_, "item1");
  EXPECT_EQ(points.Name("packs", 2), "item1/packs/rp-0002");
  EXPECT_EQ(points.Name("index", 12, ".json"), "item1/index/rp-0012.json");
  absl::StatusOr<std::vector<proto::RecoveryPoint>> none = points.List();
  ASSERT_THAT(none.status(), IsOk()) << "no container yet is no points";
  EXPECT_TRUE(none->empty());
  EXPECT_THAT(points.Get(1), StatusIs(absl::StatusCode::kNotFound,
                                      HasSubstr("recovery point 1 does not exist for item1; there are none yet")));

  ASSERT_THAT(client_->CreateContainer(container_), IsOk());
  proto::RecoveryPoint committed;
  ASSERT_THAT(points.Commit(Point(1), Streams(3, "a", "item1/packs/seed-0000"), &committed), IsOk());
  EXPECT_THAT(committed.tree(), MatchesRegex("item1/trees/rp-0001-[0-9a-f]{8}\\.jsonl\\.zst"));
  EXPECT_THAT(committed.chunkindex(), MatchesRegex("item1/index/rp-0001-[0-9a-f]{8}\\.jsonl\\.zst"));
  // 5,000 entries: a tree of several records read back in order.
  ASSERT_THAT(points.Commit(Point(2), Streams(5000, "b", "item1/packs/rp-0002"), &committed), IsOk());
  std::vector<std::string> paths = Paths(points, committed);
  ASSERT_EQ(paths.size(), 5000u);
  EXPECT_EQ(paths[0], "0/f0");
  EXPECT_EQ(paths[4999], "0/f4999");
  absl::StatusOr<std::unique_ptr<ChunkLocations>> chunks = points.LoadChunks(2);
  ASSERT_THAT(chunks.status(), IsOk());
  EXPECT_EQ((*chunks)->size(), 2u);
  absl::StatusOr<std::optional<offline::proto::Chunk>> b = (*chunks)->Find(Hash("b"));
  ASSERT_THAT(b.status(), IsOk());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->pack(), "item1/packs/rp-0002");
  EXPECT_EQ((*b)->sha256(), Hash("b"));
  EXPECT_EQ((*b)->offset(), 1u);
  EXPECT_FALSE(*(*chunks)->Find(Hash("c")));
  absl::StatusOr<std::unique_ptr<ChunkLocations>> first = points.LoadChunks(1);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ((*first)->size(), 1u) << "point 1's chunks only";
  absl::StatusOr<std::unique_ptr<index::DigestSet>> known = points.KnownChunks(2);
  ASSERT_THAT(known.status(), IsOk());
  EXPECT_THAT((*known)->Contains(Hash("a")), IsOkAndHolds(true));
  EXPECT_THAT((*known)->Contains(Hash("c")), IsOkAndHolds(false));

  // A point written without the metadata summary (an older writer) is read from its body.
  ASSERT_THAT(
      client_->PutBlockBlob(container_.WithBlob("item1/recovery-points/rp-0003.json"), json::ToJsonCompact(Point(3))),
      IsOk());
  http::RecordingTransport counting([this](const http::HttpRequest& r) { return transport_->Send(r); });
  blob::BlobClient counted(&counting, cred_);
  absl::StatusOr<std::vector<proto::RecoveryPoint>> list = RecoveryPoints(&counted, container_, "item1").List();
  ASSERT_THAT(list.status(), IsOk());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1].number(), 2);
  EXPECT_EQ((*list)[1].files(), 20u);
  EXPECT_EQ((*list)[1].tree(), committed.tree());
  EXPECT_EQ((*list)[2].files(), 30u);
  EXPECT_EQ(counting.requests().size(), 2u) << "the listing, and the body of the point without a summary";

  EXPECT_EQ(points.Get(2)->files(), 20u);
  EXPECT_THAT(points.Get(7), StatusIs(absl::StatusCode::kNotFound, HasSubstr("there are: 1, 2, 3")));

  // A point is never replaced, even by a writer that lost its lease.
  EXPECT_THAT(points.Commit(Point(2), Streams(1, "c", "item1/packs/rp-0002"), &committed),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("recovery point 2 of item1 was committed by another backup meanwhile")));
  EXPECT_EQ(points.Get(2)->files(), 20u);
  EXPECT_EQ(Paths(points, *points.Get(2)).size(), 5000u);
}

// Points written before the streams hold their tree in their JSON and their chunks in index/rp-NNNN.json: still
// read, and mixed with newer points.
TEST_F(RecoveryPointsTest, PointsWrittenBeforeTheStreamsAreStillRead) {
  ASSERT_THAT(client_->CreateContainer(container_), IsOk());
  RecoveryPoints points(client_.get(), container_, "item1");
  proto::RecoveryPoint old = Point(1);
  old.add_entries()->set_path("0/old-a");
  old.add_entries()->set_path("0/old-b");
  proto::PackIndex old_index;
  *old_index.add_chunks() = Chunk("old", "item1/packs/seed-0000");
  ASSERT_THAT(client_->PutBlockBlob(container_.WithBlob("item1/index/rp-0001.json"), json::ToJsonCompact(old_index)),
              IsOk());
  ASSERT_THAT(
      client_->PutBlockBlob(container_.WithBlob("item1/recovery-points/rp-0001.json"), json::ToJsonCompact(old)),
      IsOk());
  proto::RecoveryPoint committed;
  ASSERT_THAT(points.Commit(Point(2), Streams(1, "new", "item1/packs/rp-0002"), &committed), IsOk());
  EXPECT_THAT(Paths(points, *points.Get(1)), ::testing::ElementsAre("0/old-a", "0/old-b"));
  absl::StatusOr<std::unique_ptr<ChunkLocations>> chunks = points.LoadChunks(2);
  ASSERT_THAT(chunks.status(), IsOk());
  EXPECT_EQ((*chunks)->size(), 2u);
  EXPECT_EQ((*(*chunks)->Find(Hash("old")))->pack(), "item1/packs/seed-0000");
}

// A damaged tree is data loss naming the blob, not a shorter tree.
TEST_F(RecoveryPointsTest, ADamagedTreeIsDataLoss) {
  ASSERT_THAT(client_->CreateContainer(container_), IsOk());
  RecoveryPoints points(client_.get(), container_, "item1");
  proto::RecoveryPoint committed;
  ASSERT_THAT(points.Commit(Point(1), Streams(2000, "a", "p"), &committed), IsOk());
  std::string tree = *client_->GetBlob(container_.WithBlob(committed.tree()));
  ASSERT_THAT(client_->PutBlockBlob(container_.WithBlob(committed.tree()), tree.substr(0, tree.size() / 2)), IsOk());
  EXPECT_THAT(points.ForEachEntry(committed, [](offline::proto::Entry) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(committed.tree())));
}

}  // namespace
}  // namespace vmb::vault
