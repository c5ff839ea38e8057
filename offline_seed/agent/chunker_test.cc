// The chunk boundaries are part of the staging and vault formats (an incremental backup finds unchanged chunks by
// them), so they are judged from outside: golden vectors computed by testdata/make_chunk_vectors.py, a byte-at-a-time
// Python implementation of the format's definition that shares no code with chunker.cc.
#include "offline_seed/agent/chunker.h"

#include <algorithm>

#include "common/crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/chunk_vectors_testing.h"

namespace vmb::offline {
namespace {

// Known answers for the table, computed with Python's arbitrary-precision integers (gear_table() in
// make_chunk_vectors.py):
//   x = 0x5EEDC0DE5EEDC0DE; for each entry: x += 0x9E3779B97F4A7C15; z = x; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
//   z = (z ^ z>>27) * 0x94D049BB133111EB; entry = z ^ z>>31   (all mod 2^64)
TEST(Chunking, GearTableIsTheFormats) {
  const std::array<uint64_t, 256>& gear = GearTable();
  EXPECT_EQ(gear[0], 0xefa9d94bb7b295e2ull);
  EXPECT_EQ(gear[1], 0x6e2f8586ca09ffcaull);
  EXPECT_EQ(gear[255], 0x0e91bb31804e9a1bull);
}

// Whatever window the data is scanned in (one byte, either side of the 64-byte warm-up, the minimum and maximum
// chunk, the pipeline's 2 MiB), the boundaries are the format's.
TEST(Chunking, BoundariesAreTheGoldenVectorsWhateverTheWindow) {
  const std::vector<testing::ChunkVector> vectors = testing::LoadChunkVectors();
  ASSERT_GE(vectors.size(), 8u);
  for (const testing::ChunkVector& v : vectors) {
    const std::vector<size_t> windows = v.data.size() > (8u << 20)
                                            ? std::vector<size_t>{size_t{2u << 20}, size_t{(256u << 10) + 1}}
                                            // the large input: a few windows
                                            : std::vector<size_t>{size_t{1},
                                                                  size_t{63},
                                                                  size_t{64},
                                                                  size_t{65},
                                                                  size_t{4096},
                                                                  size_t{(16u << 10) - 1},
                                                                  size_t{(256u << 10) + 1},
                                                                  size_t{1u << 20},
                                                                  size_t{2u << 20},
                                                                  size_t{8u << 20}};
    for (size_t window : windows) EXPECT_EQ(ChunkBoundaries(v.data, window), v.ends) << v.name << " window " << window;
  }
}

TEST(Chunking, AnInsertionShiftsOnlyNearbyChunks) {
  std::string data = crypto::SecureRandom().Bytes(4u << 20);
  std::vector<size_t> a = ChunkBoundaries(data);
  std::vector<size_t> b = ChunkBoundaries("inserted!" + data);
  ASSERT_GT(a.size(), 20u);
  size_t shared = 0;
  for (size_t end : a) shared += std::count(b.begin(), b.end(), end + 9);
  EXPECT_GE(shared, a.size() - 3);
  for (size_t i = 1; i < a.size(); ++i) {
    if (i + 1 < a.size()) {
      EXPECT_GE(a[i] - a[i - 1], kMinChunk);  // only the final chunk may be short
    }
    EXPECT_LE(a[i] - a[i - 1], kMaxChunk);
  }
}

// The picker's rule on its own: a candidate closer than the minimum is passed over, a gap past the maximum is cut
// at the maximum, the end of the stream ends the last chunk.
TEST(BoundaryPicker, MinimumMaximumAndEnd) {
  struct Case {
    std::vector<uint64_t> candidates;
    uint64_t end;
    std::vector<uint64_t> want;
  };
  const std::vector<Case> cases = {
      {{100, kMinChunk, kMinChunk + 5}, kMinChunk + 10, {kMinChunk, kMinChunk + 10}},
      {{}, 2 * kMaxChunk + 1, {kMaxChunk, 2 * kMaxChunk, 2 * kMaxChunk + 1}},
      {{kMaxChunk + 5}, kMaxChunk + 100, {kMaxChunk, kMaxChunk + 100}},  // too close to the cut at the maximum
      {{}, 0, {}},
  };
  for (const Case& c : cases) {
    BoundaryPicker picker;
    std::vector<uint64_t> ends;
    picker.Feed(c.candidates, c.end, true, &ends);
    EXPECT_EQ(ends, c.want) << "end " << c.end;
  }
}

}  // namespace
}  // namespace vmb::offline
