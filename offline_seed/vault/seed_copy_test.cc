// The seed's plan: which image bytes go into which block of which pack, and recovery point 1's figures. The copy
// itself runs against a blob server in vault_test.
#include "offline_seed/vault/seed_copy.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

offline::proto::Chunk C(const std::string& sha, uint32_t image, uint64_t offset, uint32_t compressed, uint32_t length) {
  offline::proto::Chunk c;
  c.set_sha256(sha);
  c.set_image(image);
  c.set_offset(offset);
  c.set_compressedlength(compressed);
  c.set_length(length);
  return c;
}

TEST(PlanSeedPacks, OnePackPerImageInBlocksThatEndOnChunkBoundaries) {
  offline::proto::Catalogue cat;
  // Out of order on purpose: the plan goes by offset. Frames lie back to back in the image.
  *cat.add_chunks() = C("c", 0, 612, 600, 900);  // 612 .. 1212
  *cat.add_chunks() = C("a", 0, 0, 100, 200);    // 0 .. 100
  *cat.add_chunks() = C("b", 0, 100, 512, 800);  // 100 .. 612
  *cat.add_chunks() = C("d", 1, 0, 10, 10);      // image 1: 0 .. 10
  proto::PackIndex index;
  absl::StatusOr<std::vector<SeedPack>> packs = PlanSeedPacks(cat, 3, "item", /*block_bytes=*/600, &index);
  ASSERT_TRUE(packs.ok()) << packs.status();
  ASSERT_EQ(packs->size(), 3u);  // an image without chunks still gets its (empty) pack
  const SeedPack& p0 = (*packs)[0];
  EXPECT_EQ(p0.name, "item/packs/seed-0000");
  ASSERT_EQ(p0.blocks.size(), 2u);  // a block closes once it holds at least block_bytes
  EXPECT_EQ(p0.blocks[0].begin, 0u);
  EXPECT_EQ(p0.blocks[0].end, 612u);
  ASSERT_EQ(p0.blocks[0].chunks.size(), 2u);
  EXPECT_EQ(p0.blocks[0].chunks[0]->sha256(), "a");
  EXPECT_EQ(p0.blocks[0].chunks[1]->sha256(), "b");
  EXPECT_EQ(p0.blocks[1].begin, 612u);
  EXPECT_EQ(p0.blocks[1].end, 1212u);
  EXPECT_EQ(p0.size(), 1212u);
  EXPECT_EQ((*packs)[1].name, "item/packs/seed-0001");
  EXPECT_EQ((*packs)[1].size(), 10u);
  EXPECT_EQ((*packs)[2].size(), 0u);

  // The index places every chunk in its pack at its image offset, without the image.
  ASSERT_EQ(index.chunks_size(), 4);
  EXPECT_EQ(index.chunks(0).sha256(), "a");
  EXPECT_EQ(index.chunks(0).pack(), "item/packs/seed-0000");
  EXPECT_EQ(index.chunks(2).offset(), 612u);
  EXPECT_EQ(index.chunks(3).pack(), "item/packs/seed-0001");
  for (const auto& c : index.chunks()) EXPECT_EQ(c.image(), 0u) << c.sha256();

  EXPECT_EQ(SeedBytes(cat), 100u + 512u + 600u + 10u);
}

// Staging locations written before frames were packed back to back hold each frame at a 512-byte boundary: the
// gaps go with the block before them and every chunk stays at its offset.
TEST(PlanSeedPacks, FramesAtPageBoundariesStillPlan) {
  offline::proto::Catalogue cat;
  *cat.add_chunks() = C("a", 0, 0, 100, 200);
  *cat.add_chunks() = C("b", 0, 512, 600, 800);
  *cat.add_chunks() = C("c", 0, 1536, 10, 10);
  proto::PackIndex index;
  absl::StatusOr<std::vector<SeedPack>> packs = PlanSeedPacks(cat, 1, "item", /*block_bytes=*/600, &index);
  ASSERT_TRUE(packs.ok()) << packs.status();
  const SeedPack& p0 = (*packs)[0];
  ASSERT_EQ(p0.blocks.size(), 2u);
  EXPECT_EQ(p0.blocks[0].end, 1112u);
  EXPECT_EQ(p0.blocks[1].begin, 1112u);
  EXPECT_EQ(p0.blocks[1].end, 1546u);
  EXPECT_EQ(index.chunks(2).offset(), 1536u);
}

TEST(PlanSeedPacks, AChunkOfAnImageNotGivenIsRefused) {
  offline::proto::Catalogue cat;
  *cat.add_chunks() = C("a", 0, 0, 10, 10);
  *cat.add_chunks() = C("b", 2, 0, 10, 10);
  proto::PackIndex index;
  EXPECT_THAT(PlanSeedPacks(cat, 2, "item", 1000, &index),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the catalogue names image 2 but only 2 imported image(s) were given")));
}

TEST(SeededPoint, CountsFilesBytesAndChunksFromTheCatalogue) {
  offline::proto::Catalogue cat;
  cat.add_roots("/data");
  auto* f = cat.add_entries();
  f->set_path("0/a");
  f->set_type("file");
  f->set_size(1000);
  f->add_chunks("x");
  f->add_chunks("y");
  auto* g = cat.add_entries();
  g->set_path("0/b");
  g->set_type("file");
  g->set_size(24);
  g->add_chunks("x");
  cat.add_entries()->set_type("dir");
  *cat.add_chunks() = C("x", 0, 0, 10, 24);
  *cat.add_chunks() = C("y", 0, 512, 10, 976);
  proto::RecoveryPoint rp = SeededPoint(&cat);
  EXPECT_EQ(cat.entries_size(), 0) << "moved into the point, not copied";
  EXPECT_EQ(rp.number(), 1);
  EXPECT_EQ(rp.kind(), "Seeded");
  EXPECT_EQ(rp.createdat(), "");  // the vault stamps it at commit
  EXPECT_EQ(rp.roots_size(), 1);
  EXPECT_EQ(rp.entries_size(), 3);
  EXPECT_EQ(rp.files(), 2u);
  EXPECT_EQ(rp.sourcebytes(), 1024u);
  EXPECT_EQ(rp.chunks(), 3u);     // references
  EXPECT_EQ(rp.newchunks(), 2u);  // distinct
  EXPECT_EQ(rp.newbytes(), 1000u);
  EXPECT_EQ(rp.bytesuploaded(), 0u);
}

}  // namespace
}  // namespace vmb::vault
