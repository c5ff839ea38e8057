#include "offline_seed/agent/chunk_codec.h"

#include <memory>

#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

std::string Hex(const std::string& data) { return crypto::Base16Encode(crypto::Sha256(data)); }

// Sealed chunks carry their piece's place, hash and a frame that opens to their bytes; known chunks get no frame.
TEST(SealChunks, HashesAndCompressesUnlessKnown) {
  auto holder = std::make_shared<const std::string>("..hello world, hello world..known");
  const std::vector<ChunkPiece> pieces = {{holder, 2, 26, 5, 1}, {holder, 28, 5, 6, 0}};
  FramePool frames;
  std::vector<SealedChunk> sealed = SealChunks(
      pieces, [](const std::string& h) { return h == Hex("known"); }, 3, &frames);
  ASSERT_EQ(sealed.size(), 2u);
  EXPECT_EQ(sealed[0].entry, 5u);
  EXPECT_EQ(sealed[0].attempt, 1);
  EXPECT_EQ(sealed[0].length, 26u);
  EXPECT_EQ(sealed[0].hash, Hex("hello world, hello world.."));
  EXPECT_FALSE(sealed[0].known);
  absl::StatusOr<std::string> back = OpenChunk(sealed[0].frame, 26, sealed[0].hash, "in test");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "hello world, hello world..");
  EXPECT_TRUE(sealed[1].known);
  EXPECT_TRUE(sealed[1].frame.empty());
}

TEST(OpenChunk, DamageIsDataLossNamingWhere) {
  auto holder = std::make_shared<const std::string>(std::string(1000, 'x'));
  FramePool frames;
  SealedChunk c = SealChunks({{holder, 0, 1000, 0, 0}}, nullptr, 1, &frames)[0];
  struct Case {
    std::string frame;
    uint32_t length;
    std::string hash;
  };
  std::string flipped = c.frame;
  flipped[flipped.size() / 2] ^= 0x40;
  const std::vector<Case> cases = {
      {flipped, 1000, c.hash}, {c.frame, 999, c.hash}, {c.frame, 1000, Hex("other")}, {"not zstd", 1000, c.hash}};
  for (const Case& k : cases) {
    EXPECT_THAT(OpenChunk(k.frame, k.length, k.hash, "in image 3 at offset 512").status(),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("in image 3 at offset 512 is damaged")));
  }
  std::string reused;
  absl::StatusOr<absl::string_view> view = OpenChunkInto(c.frame, 1000, c.hash, "here", &reused);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, std::string(1000, 'x'));
}

// Frames handed back are reused; the pool keeps at most 64.
TEST(FramePool, ReusesUpTo64Frames) {
  FramePool pool;
  EXPECT_TRUE(pool.Take().empty());
  std::string big(1000, 'f');
  big.clear();
  big.reserve(1 << 16);
  pool.Give(std::move(big));
  EXPECT_GE(pool.Take().capacity(), 1u << 16);
  for (int i = 0; i < 70; ++i) pool.Give(std::string(100, 'g'));
  int n = 0;
  while (!pool.Take().empty()) ++n;
  EXPECT_EQ(n, 64);
}

}  // namespace
}  // namespace vmb::offline
