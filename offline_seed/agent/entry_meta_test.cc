// ChunkSlicer and StoredLength: which bytes of a file's chunks are the file's (a packed file's slice of its segment,
// a cut file's whole chunks), and a damaged catalogue refused before anything is written.
#include "offline_seed/agent/entry_meta.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

proto::Entry File(uint64_t size, uint64_t chunk_offset = 0) {
  proto::Entry e;
  e.set_path("0/f");
  e.set_type("file");
  e.set_size(size);
  e.set_chunkoffset(chunk_offset);
  return e;
}

TEST(ChunkSlicer, APackedFileTakesItsSliceOfTheSegment) {
  ChunkSlicer s(File(700, 1000));
  absl::StatusOr<ChunkSlicer::Slice> slice = s.Next(1 << 20, "f");
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->skip, 1000u);
  EXPECT_EQ(slice->length, 700u);
  EXPECT_EQ(slice->at, 0u);
  EXPECT_TRUE(s.Done("f").ok());
}

TEST(ChunkSlicer, ACutFileTakesWholeChunksBackToBack) {
  ChunkSlicer s(File(300));
  for (uint64_t at : {0u, 100u, 200u}) {
    absl::StatusOr<ChunkSlicer::Slice> slice = s.Next(100, "f");
    ASSERT_TRUE(slice.ok()) << slice.status();
    EXPECT_EQ(slice->skip, 0u);
    EXPECT_EQ(slice->length, 100u);
    EXPECT_EQ(slice->at, at);
  }
  EXPECT_TRUE(s.Done("f").ok());
}

TEST(ChunkSlicer, ADamagedCatalogueIsDataLoss) {
  ChunkSlicer beyond(File(10, 5000));  // begins past the segment's end
  EXPECT_THAT(beyond.Next(4096, "out/0/f").status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("out/0/f: its bytes begin at 5000 in a chunk of 4096")));
  ChunkSlicer short_of(File(5000, 100));  // the segment ends before the file does
  ASSERT_TRUE(short_of.Next(4096, "f").ok());
  EXPECT_THAT(short_of.Done("out/0/f"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("out/0/f: its chunks hold 3996 of its 5000 bytes")));
  ChunkSlicer none(File(1));  // a file with bytes and no chunk
  EXPECT_THAT(none.Done("f"), StatusIs(absl::StatusCode::kDataLoss));
}

// A sparse file cut short while it was read keeps the size captured: the extents count only up to it (catalogues
// written before the extents were trimmed too), and nothing is written past it.
TEST(StoredLength, ExtentsCountOnlyWithinTheSize) {
  proto::Entry e = File(6000);
  for (auto [offset, length] : {std::pair<uint64_t, uint64_t>{0, 1000}, {4096, 4096}, {16384, 4096}}) {
    proto::Extent* x = e.add_extents();
    x->set_offset(offset);
    x->set_length(length);
  }
  EXPECT_EQ(StoredLength(e), 1000u + (6000u - 4096u));
  EXPECT_THAT(StoredLayout(e).Write(-1, StoredLength(e), "x", "f"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace vmb::offline
