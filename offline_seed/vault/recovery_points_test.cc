// The recovery-point index against a real blob server (Azurite): a commit is never replaced, listing is one request
// (a point without its metadata summary is still read), and a missing point names the ones that exist.
#include "offline_seed/vault/recovery_points.h"

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
using ::vmb::testing::IsOk;
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
    rp.add_entries()->set_path("0/f");
    return rp;
  }
  static proto::PackIndex Index(const std::string& chunk, const std::string& pack) {
    proto::PackIndex index;
    auto* c = index.add_chunks();
    c->set_sha256(chunk);
    c->set_pack(pack);
    return index;
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
  proto::RecoveryPoint one = Point(1), second = Point(2);
  ASSERT_THAT(points.Commit(one, Index("a", "item1/packs/seed-0000")), IsOk());
  ASSERT_THAT(points.Commit(second, Index("b", "item1/packs/rp-0002")), IsOk());
  EXPECT_EQ(second.SerializeAsString(), Point(2).SerializeAsString()) << "the point is as it was, entries too";
  absl::StatusOr<ChunkIndex> chunks = points.LoadChunks(2);
  ASSERT_THAT(chunks.status(), IsOk());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ(chunks->at("b").pack(), "item1/packs/rp-0002");
  EXPECT_THAT(points.LoadChunks(3), StatusIs(absl::StatusCode::kNotFound));

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
  EXPECT_EQ((*list)[1].entries_size(), 0);
  EXPECT_EQ((*list)[2].files(), 30u);
  EXPECT_EQ(counting.requests().size(), 2u) << "the listing, and the body of the point without a summary";

  absl::StatusOr<proto::RecoveryPoint> two = points.Get(2);
  ASSERT_THAT(two.status(), IsOk());
  EXPECT_EQ(two->entries_size(), 1);  // Get keeps the entries
  EXPECT_THAT(points.Get(7), StatusIs(absl::StatusCode::kNotFound, HasSubstr("there are: 1, 2, 3")));

  // A point is never replaced, even by a writer that lost its lease.
  proto::RecoveryPoint again = Point(2);
  EXPECT_THAT(points.Commit(again, Index("c", "item1/packs/rp-0002")),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("recovery point 2 of item1 was committed by another backup meanwhile")));
  EXPECT_EQ(points.Get(2)->files(), 20u);
}

}  // namespace
}  // namespace vmb::vault
