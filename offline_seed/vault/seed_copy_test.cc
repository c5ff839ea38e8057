// The seed's copy against a real blob server (Azurite): chunks as the catalogue lists them become packs that hold the
// image's bytes verbatim, in blocks that end on chunk boundaries; gaps (older staging locations) go along; an image
// without chunks gets an empty pack; a second run copies nothing again; a catalogue out of order or naming an image
// not given is refused. Recovery point 1 as a whole (figures, tree, restore, damage, resume) is in vault_test.
#include "offline_seed/vault/seed_copy.h"

#include <algorithm>
#include <map>
#include <memory>

#include "common/crypto/random.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/tree.h"

namespace vmb::vault {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class SeedCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<vmb::testing::Azurite>> azurite = vmb::testing::Azurite::Start();
    ASSERT_TRUE(azurite.ok()) << azurite.status();
    azurite_ = std::move(*azurite);
    transport_ = http::NewCurlTransport();
    client_ = std::make_unique<blob::BlobClient>(transport_.get(), cred_);
    account_ = *blob::BlobUri::ForAccount(azurite_->endpoint());
    ASSERT_THAT(client_->CreateContainer(account_.WithContainer("import")), IsOk());
    ASSERT_THAT(client_->CreateContainer(account_.WithContainer("vault")), IsOk());
    // Image 0: a and b back to back, then c at the next 512-byte boundary (as older staging locations hold frames);
    // image 1: d; image 2: nothing.
    std::string image0, image1;
    Put(&image0, 0, "a");
    Put(&image0, 0, "b");
    image0.resize((image0.size() + 511) / 512 * 512, '\0');
    Put(&image0, 0, "c");
    Put(&image1, 1, "d");
    images_raw_ = {image0, image1, ""};
    for (size_t i = 0; i < images_raw_.size(); ++i) {
      blob::BlobUri b = account_.WithContainer("import").WithBlob("image-" + std::to_string(i));
      std::string padded = images_raw_[i];
      padded.resize(std::max<size_t>(512, (padded.size() + 511) / 512 * 512), '\0');
      ASSERT_THAT(client_->CreatePageBlob(b, padded.size()), IsOk());
      ASSERT_THAT(client_->PutPages(b, 0, padded), IsOk());
      images_.push_back(b);
    }
  }

  // Appends chunk `name` (20 KiB of random bytes, compressed) to `image`, as initiate does.
  void Put(std::string* image, uint32_t index, const std::string& name) {
    auto data = std::make_shared<const std::string>(crypto::SecureRandom().Bytes(20u << 10));
    offline::FramePool frames;
    std::vector<offline::SealedChunk> sealed =
        offline::SealChunks({offline::ChunkPiece{data, 0, data->size(), 0, 0}}, nullptr, 1, &frames);
    offline::proto::Chunk c;
    c.set_sha256(sealed[0].hash);
    c.set_image(index);
    c.set_offset(image->size());
    c.set_compressedlength(static_cast<uint32_t>(sealed[0].frame.size()));
    c.set_length(sealed[0].length);
    *image += sealed[0].frame;
    chunks_[name] = c;
  }

  SeedCopyOptions Options(uint64_t block_bytes) {
    SeedCopyOptions o;
    o.client = client_.get();
    o.images = images_;
    o.container = account_.WithContainer("vault");
    o.item = "item";
    o.block_bytes = block_bytes;
    return o;
  }

  std::unique_ptr<vmb::testing::Azurite> azurite_;
  std::unique_ptr<http::HttpTransport> transport_;
  blob::SharedKeyCredential cred_ =
      *blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey);
  std::unique_ptr<blob::BlobClient> client_;
  blob::BlobUri account_;
  std::vector<blob::BlobUri> images_;
  std::vector<std::string> images_raw_;
  std::map<std::string, offline::proto::Chunk> chunks_;
};

TEST_F(SeedCopyTest, PacksHoldTheImagesVerbatimInBlocksOnChunkBoundaries) {
  {
    SeedCopier copier(Options(/*block_bytes=*/1));  // every chunk closes its block
    for (const char* name : {"a", "b", "c", "d"}) {
      absl::StatusOr<offline::proto::Chunk> located = copier.Add(chunks_[name]);
      ASSERT_THAT(located.status(), IsOk()) << name;
      EXPECT_EQ(located->pack(), std::string("item/packs/seed-000") + (std::string(name) == "d" ? "1" : "0"));
      EXPECT_EQ(located->offset(), chunks_[name].offset()) << "a pack holds its image verbatim";
      EXPECT_EQ(located->image(), 0u);
      EXPECT_EQ(located->sha256(), chunks_[name].sha256());
    }
    ASSERT_THAT(copier.Finish(), IsOk());
    EXPECT_EQ(copier.counts().blocks_uploaded, 4u);
    EXPECT_EQ(copier.counts().blocks_reused, 0u);
  }
  const blob::BlobUri vault = account_.WithContainer("vault");
  EXPECT_TRUE(*client_->GetBlob(vault.WithBlob("item/packs/seed-0000")) == images_raw_[0]) << "gap included";
  EXPECT_TRUE(*client_->GetBlob(vault.WithBlob("item/packs/seed-0001")) == images_raw_[1]);
  EXPECT_EQ(client_->GetProperties(vault.WithBlob("item/packs/seed-0002"))->content_length, 0u);

  // Run again (an interrupted seed resumed after its packs were committed): nothing is copied.
  SeedCopier again(Options(1));
  for (const char* name : {"a", "b", "c", "d"}) ASSERT_THAT(again.Add(chunks_[name]).status(), IsOk());
  ASSERT_THAT(again.Finish(), IsOk());
  EXPECT_EQ(again.counts().blocks_uploaded, 0u);
  EXPECT_EQ(again.counts().blocks_reused, 4u);

  // A committed pack of another size is not this import's copy: refused, not taken.
  ASSERT_THAT(client_->PutBlockBlob(vault.WithBlob("item/packs/seed-0001"), "something else"), IsOk());
  SeedCopier other(Options(1));
  for (const char* name : {"a", "b", "c", "d"}) ASSERT_THAT(other.Add(chunks_[name]).status(), IsOk());
  EXPECT_THAT(other.Finish(), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr("the vault already holds item/packs/seed-0001 with 14 bytes")));
}

TEST_F(SeedCopyTest, OneBigBlockWhenTheyFit) {
  SeedCopier copier(Options(4u << 20));
  for (const char* name : {"a", "b", "c"}) ASSERT_THAT(copier.Add(chunks_[name]).status(), IsOk());
  ASSERT_THAT(copier.Finish(), IsOk());
  EXPECT_EQ(copier.counts().blocks_uploaded, 1u) << "image 0 in one block; images 1 and 2 empty";
  EXPECT_TRUE(*client_->GetBlob(account_.WithContainer("vault").WithBlob("item/packs/seed-0000")) == images_raw_[0]);
}

TEST_F(SeedCopyTest, ACatalogueOutOfOrderOrNamingAnImageNotGivenIsRefused) {
  SeedCopier copier(Options(1));
  ASSERT_THAT(copier.Add(chunks_["b"]).status(), IsOk());
  EXPECT_THAT(copier.Add(chunks_["a"]).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("the catalogue's chunks are out of order")));
  offline::proto::Chunk far = chunks_["d"];
  far.set_image(3);
  EXPECT_THAT(copier.Add(far).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the catalogue names image 3 but only 3 imported image(s) were given")));
}

TEST_F(SeedCopyTest, ADamagedRangeIsDataLossNamingTheImageAndOffset) {
  ASSERT_THAT(client_->ClearPages(images_[1], 0, 4096), IsOk());
  SeedCopier copier(Options(1));
  for (const char* name : {"a", "b", "c", "d"}) ASSERT_THAT(copier.Add(chunks_[name]).status(), IsOk());
  EXPECT_THAT(copier.Finish(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("image-1 at offset 0")));
}

}  // namespace
}  // namespace vmb::vault
