#include "offline_seed/agent/walk_chunker.h"

#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::vmb::testing::IsOk;

// A tree of 40 small files (10 distinct contents) in 4 folders, with a hard link and a symlink.
std::string MakeTree() {
  const std::string root = vmb::testing::PerTestDir() + "/src";
  for (int i = 0; i < 40; ++i) {
    std::string dir = absl::StrCat(root, "/d", i / 10);
    EXPECT_THAT(file::MakeDirs(dir), IsOk());
    EXPECT_THAT(file::WriteFileAtomic(absl::StrCat(dir, "/f", i), absl::StrCat("content ", i % 10), 0644), IsOk());
  }
  EXPECT_EQ(::link((root + "/d0/f1").c_str(), (root + "/d3/zz-link").c_str()), 0);
  EXPECT_EQ(::symlink("d0/f1", (root + "/link").c_str()), 0);
  return root;
}

// Batches of any size give the entries, chunks and figures of one ChunkTree over the whole tree, and each distinct
// chunk reaches the sink once across batches.
TEST(WalkAndChunk, BatchesGiveWhatOnePassGives) {
  const std::string root = MakeTree();
  absl::StatusOr<SourceTree> whole = WalkSources({root});
  ASSERT_THAT(whole.status(), IsOk());
  std::map<std::string, int> whole_sunk;
  absl::StatusOr<ChunkStats> one =
      ChunkTree(*whole, ChunkOptions(), [&](const std::string& h, uint32_t, const std::string&) {
        ++whole_sunk[h];
        return absl::OkStatus();
      });
  ASSERT_THAT(one.status(), IsOk());
  for (size_t batch : {1, 3, 7, 4096}) {
    std::map<std::string, int> sunk;
    std::vector<proto::Entry> out;
    uint64_t last_done = 0, last_total = 0;
    ChunkOptions co;
    co.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
    auto stored = index::DigestSet::Open("");
    ASSERT_THAT(stored.status(), IsOk());
    absl::StatusOr<WalkedTree> walked = WalkAndChunk(
        {root}, "", co, whole->bytes, **stored,
        [&](const std::string& h, uint32_t, const std::string&) {
          ++sunk[h];
          return absl::OkStatus();
        },
        [&](proto::Entry e) {
          out.push_back(std::move(e));
          return absl::OkStatus();
        },
        batch);
    ASSERT_THAT(walked.status(), IsOk()) << batch;
    EXPECT_EQ(sunk, whole_sunk) << batch;
    ASSERT_EQ(out.size(), whole->entries.size()) << batch;
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].SerializeAsString(), whole->entries[i].SerializeAsString()) << batch << " " << i;
    }
    EXPECT_EQ(walked->stats.chunks, one->chunks);
    EXPECT_EQ(walked->stats.new_chunks, 10u);
    EXPECT_EQ(walked->bytes, whole->bytes);
    EXPECT_EQ(walked->roots, whole->roots);
    EXPECT_EQ(last_done, whole->bytes);
    EXPECT_EQ(last_total, whole->bytes);
    EXPECT_EQ((*stored)->size(), 10u) << "every chunk the sink took is in the stored set";
  }
}

// A chunk the stored set already holds (an earlier batch's, or another run's) is neither compressed nor stored.
TEST(WalkAndChunk, ChunksAlreadyStoredAreNotStoredAgain) {
  const std::string root = MakeTree();
  auto stored = index::DigestSet::Open("");
  ASSERT_THAT(stored.status(), IsOk());
  auto sink_nothing = [](const std::string&, uint32_t, const std::string&) { return absl::OkStatus(); };
  auto keep_nothing = [](proto::Entry) { return absl::OkStatus(); };
  absl::StatusOr<WalkedTree> first = WalkAndChunk({root}, "", ChunkOptions(), 0, **stored, sink_nothing, keep_nothing);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->stats.new_chunks, 10u);
  int sunk = 0;
  absl::StatusOr<WalkedTree> again = WalkAndChunk(
      {root}, "", ChunkOptions(), 0, **stored,
      [&](const std::string&, uint32_t, const std::string&) {
        ++sunk;
        return absl::OkStatus();
      },
      keep_nothing);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(sunk, 0);
  EXPECT_EQ(again->stats.new_chunks, 0u);
  EXPECT_EQ(again->stats.chunks, first->stats.chunks);
}

TEST(WalkAndChunk, AnErrorStopsTheWalk) {
  const std::string root = MakeTree();
  int given = 0;
  auto stored = index::DigestSet::Open("");
  ASSERT_THAT(stored.status(), IsOk());
  absl::StatusOr<WalkedTree> walked = WalkAndChunk(
      {root}, "", ChunkOptions(), 0, **stored,
      [](const std::string&, uint32_t, const std::string&) { return absl::OkStatus(); },
      [&](proto::Entry) { return ++given == 5 ? absl::UnavailableError("the disk is gone") : absl::OkStatus(); }, 2);
  EXPECT_EQ(walked.status(), absl::UnavailableError("the disk is gone"));
  EXPECT_EQ(given, 5);
}

}  // namespace
}  // namespace vmb::offline
