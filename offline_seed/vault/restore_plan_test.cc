// The restore's reads: each distinct chunk once, in pack order, in ranges bounded by pack, overlap, gap and size.
#include "offline_seed/vault/restore_plan.h"

#include <map>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

offline::proto::Chunk At(const std::string& pack, uint64_t offset, uint32_t compressed, uint32_t length) {
  offline::proto::Chunk c;
  c.set_pack(pack);
  c.set_offset(offset);
  c.set_compressedlength(compressed);
  c.set_length(length);
  return c;
}

// The vault's index as a map (ChunkLocations in the vault).
ChunkLookup Lookup(const std::map<std::string, offline::proto::Chunk>& index) {
  return [&index](const std::string& h) -> absl::StatusOr<std::optional<offline::proto::Chunk>> {
    auto it = index.find(h);
    if (it == index.end()) return std::nullopt;
    return it->second;
  };
}

offline::proto::Entry File(const std::string& path, std::vector<std::string> chunks, uint64_t size) {
  offline::proto::Entry e;
  e.set_path(path);
  e.set_type("file");
  e.set_size(size);
  for (auto& c : chunks) e.add_chunks(c);
  return e;
}

TEST(PlanRestore, EachChunkOnceInPackOrderWithEveryUse) {
  std::map<std::string, offline::proto::Chunk> index = {
      {"a", At("p2", 0, 100, 1000)}, {"b", At("p1", 200, 50, 500)}, {"c", At("p1", 0, 100, 300)}};
  offline::proto::Entry f0 = File("0/x", {"a", "c", "a"}, 2300), f1 = File("0/y", {"a"}, 1000);
  absl::StatusOr<RestorePlan> plan = PlanRestore({&f0, &f1}, Lookup(index), "/t");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->layouts.size(), 2u);
  ASSERT_EQ(plan->order.size(), 2u);  // "b" is in no file: not read
  EXPECT_EQ(plan->order[0]->chunk.pack(), "p1");
  EXPECT_EQ(plan->order[0]->chunk.offset(), 0u);
  EXPECT_EQ(plan->order[1]->chunk.pack(), "p2");
  const ChunkPiece& a = *plan->order[1];
  ASSERT_EQ(a.uses.size(), 3u);  // twice in f0 (at 0 and after a and c), once in f1
  EXPECT_EQ(a.uses[0].file, 0u);
  EXPECT_EQ(a.uses[0].at, 0u);
  EXPECT_EQ(a.uses[1].file, 0u);
  EXPECT_EQ(a.uses[1].at, 1300u);
  EXPECT_EQ(a.uses[2].file, 1u);
  EXPECT_EQ(a.uses[2].at, 0u);
  ASSERT_EQ(plan->ranges.size(), 2u);  // one per pack
  EXPECT_EQ(plan->ranges[0].begin, 0u);
  EXPECT_EQ(plan->ranges[0].end, 100u);
}

TEST(PlanRestore, RangesSpanSmallGapsButNotBigOnesNorMoreThan8MiB) {
  const uint32_t mib = 1u << 20;
  std::map<std::string, offline::proto::Chunk> index = {
      {"a", At("p", 0, 1000, 1000)},
      {"b", At("p", 1000 + mib, 1000, 1000)},          // a gap of exactly 1 MiB: same range
      {"c", At("p", 2000 + 2 * mib + 1, 1000, 1000)},  // a gap just over 1 MiB: a new range
      {"d", At("p", 3 * mib, 4 * mib, 4 * mib)},       // a gap under 1 MiB after c: same range, to 7 MiB
      {"e", At("p", 7 * mib, 4 * mib, 4 * mib)},       // no gap, but c's range would pass 8 MiB: a new range
  };
  offline::proto::Entry f = File("0/f", {"a", "b", "c", "d", "e"}, 0);
  absl::StatusOr<RestorePlan> plan = PlanRestore({&f}, Lookup(index), "/t");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->ranges.size(), 3u);
  EXPECT_EQ(plan->ranges[0].first, 0u);
  EXPECT_EQ(plan->ranges[0].last, 2u);  // a, b
  EXPECT_EQ(plan->ranges[0].end, 2000u + mib);
  EXPECT_EQ(plan->ranges[1].first, 2u);
  EXPECT_EQ(plan->ranges[1].last, 4u);  // c, d
  EXPECT_EQ(plan->ranges[1].end, 7u * mib);
  EXPECT_EQ(plan->ranges[2].first, 4u);  // e alone
  for (const PackRange& r : plan->ranges) EXPECT_LE(r.end - r.begin, kMaxRangeBytes);
}

TEST(PlanRestore, AChunkMissingFromTheIndexIsDataLoss) {
  std::map<std::string, offline::proto::Chunk> index = {{"a", At("p", 0, 10, 10)}};
  offline::proto::Entry f = File("0/dir/f", {"a", "zz"}, 20);
  EXPECT_THAT(PlanRestore({&f}, Lookup(index), "/restore"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("chunk zz of /restore/0/dir/f is missing from the vault's index")));
}

}  // namespace
}  // namespace vmb::vault
