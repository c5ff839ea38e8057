#include "offline_seed/agent/walk_chunker.h"

#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::vmb::testing::IsOk;

// A tree of 40 small files (10 distinct contents) in 4 folders, two large files with the same content in different
// folders, a hard link and a symlink.
std::string MakeTree() {
  const std::string root = vmb::testing::PerTestDir() + "/src";
  for (int i = 0; i < 40; ++i) {
    std::string dir = absl::StrCat(root, "/d", i / 10);
    EXPECT_THAT(file::MakeDirs(dir), IsOk());
    EXPECT_THAT(file::WriteFileAtomic(absl::StrCat(dir, "/f", i), absl::StrCat("content ", i % 10), 0644), IsOk());
  }
  const std::string large = crypto::SecureRandom().Bytes(kPackMax + 1000);
  EXPECT_THAT(file::WriteFileAtomic(root + "/d0/large", large, 0644), IsOk());
  EXPECT_THAT(file::WriteFileAtomic(root + "/d3/large", large, 0644), IsOk());
  EXPECT_EQ(::link((root + "/d0/f1").c_str(), (root + "/d3/zz-link").c_str()), 0);
  EXPECT_EQ(::symlink("d0/f1", (root + "/link").c_str()), 0);
  return root;
}

// The chunks a sink took, by hash: their bytes, checked.
class SunkChunks {
 public:
  ChunkSink Sink() {
    return [this](const std::string& h, uint32_t length, const std::string& frame) -> absl::Status {
      ++count_[h];
      ASSIGN_OR_RETURN(bytes_[h], OpenChunk(frame, length, h, "in the test's sink"));
      return absl::OkStatus();
    };
  }
  const std::map<std::string, int>& count() const { return count_; }
  // A file's stored bytes, rebuilt from its chunks as a restore does.
  std::string Rebuild(const proto::Entry& e) const {
    std::string out;
    ChunkSlicer slicer(e);
    for (const std::string& h : e.chunks()) {
      const std::string& data = bytes_.at(h);
      absl::StatusOr<ChunkSlicer::Slice> s = slicer.Next(data.size(), e.path());
      EXPECT_THAT(s.status(), IsOk());
      if (s.ok()) out += data.substr(s->skip, s->length);
    }
    EXPECT_THAT(slicer.Done(e.path()), IsOk());
    return out;
  }

 private:
  std::map<std::string, int> count_;
  std::map<std::string, std::string> bytes_;
};

// Entries without what depends on how files were packed.
std::string Unpacked(proto::Entry e) {
  e.clear_chunks();
  e.clear_chunkoffset();
  return e.SerializeAsString();
}

// Batches of any size give the entries of one ChunkTree over the whole tree, every file's bytes come back from its
// chunks, and each distinct chunk reaches the sink once across batches (the large files' chunks are stored once).
TEST(WalkAndChunk, BatchesKeepWhatOnePassKeeps) {
  const std::string root = MakeTree();
  absl::StatusOr<SourceTree> whole = WalkSources({root});
  ASSERT_THAT(whole.status(), IsOk());
  SunkChunks whole_sunk;
  absl::StatusOr<ChunkStats> one = ChunkTree(*whole, ChunkOptions(), whole_sunk.Sink());
  ASSERT_THAT(one.status(), IsOk());
  for (size_t batch : {1, 3, 7, 4096}) {
    SunkChunks sunk;
    std::vector<proto::Entry> out;
    uint64_t last_done = 0, last_total = 0;
    ChunkOptions co;
    co.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
    auto stored = index::DigestSet::Open("");
    ASSERT_THAT(stored.status(), IsOk());
    absl::StatusOr<WalkedTree> walked = WalkAndChunk(
        {root}, "", co, whole->bytes, **stored, sunk.Sink(),
        [&](proto::Entry e) {
          out.push_back(std::move(e));
          return absl::OkStatus();
        },
        batch);
    ASSERT_THAT(walked.status(), IsOk()) << batch;
    for (const auto& [h, n] : sunk.count()) EXPECT_EQ(n, 1) << batch << " " << h;
    ASSERT_EQ(out.size(), whole->entries.size()) << batch;
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(Unpacked(out[i]), Unpacked(whole->entries[i])) << batch << " " << i;
      if (out[i].type() != "file") continue;
      const std::string source = *file::ReadFile(root + out[i].path().substr(1));
      EXPECT_EQ(sunk.Rebuild(out[i]), source) << batch << " " << out[i].path();
      EXPECT_EQ(whole_sunk.Rebuild(whole->entries[i]), source) << out[i].path();
    }
    EXPECT_EQ(walked->stats.chunks, one->chunks);
    EXPECT_EQ(walked->bytes, whole->bytes);
    EXPECT_EQ(walked->roots, whole->roots);
    EXPECT_EQ(last_done, whole->bytes);
    EXPECT_EQ(last_total, whole->bytes);
    EXPECT_EQ((*stored)->size(), sunk.count().size()) << "every chunk the sink took is in the stored set";
  }
}

// Small files are packed into segments, cut where the files' paths say: a tree read again is packed into the same
// segments (all found stored), and after a file changed and another was added, only the segments around them are new.
TEST(WalkAndChunk, SegmentsAreCutInTheSamePlacesAgain) {
  const std::string root = vmb::testing::PerTestDir() + "/many";
  for (int i = 0; i < 4000; ++i) {  // 4000 files of 1-3 KB: about 8 MB, a dozen segments
    std::string dir = absl::StrCat(root, "/d", i / 500);
    ASSERT_THAT(file::MakeDirs(dir), IsOk());
    ASSERT_THAT(file::WriteFileAtomic(absl::StrCat(dir, "/f", i), crypto::SecureRandom().Bytes(1000 + i % 2000), 0644),
                IsOk());
  }
  auto stored = index::DigestSet::Open("");
  ASSERT_THAT(stored.status(), IsOk());
  auto keep_nothing = [](proto::Entry) { return absl::OkStatus(); };
  SunkChunks first_sunk;
  absl::StatusOr<WalkedTree> first =
      WalkAndChunk({root}, "", ChunkOptions(), 0, **stored, first_sunk.Sink(), keep_nothing, 512);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_GE(first->stats.new_chunks, 6u);
  EXPECT_LE(first->stats.new_chunks, 20u);
  EXPECT_EQ(first->stats.chunks, 4000u);  // one per file: its segment

  SunkChunks again_sunk;
  absl::StatusOr<WalkedTree> again =
      WalkAndChunk({root}, "", ChunkOptions(), 0, **stored, again_sunk.Sink(), keep_nothing, 512);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->stats.new_chunks, 0u);

  ASSERT_THAT(file::WriteFileAtomic(root + "/d1/f600", crypto::SecureRandom().Bytes(1500), 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(root + "/d5/new", crypto::SecureRandom().Bytes(2500), 0644), IsOk());
  SunkChunks changed_sunk;
  absl::StatusOr<WalkedTree> changed =
      WalkAndChunk({root}, "", ChunkOptions(), 0, **stored, changed_sunk.Sink(), keep_nothing, 512);
  ASSERT_THAT(changed.status(), IsOk());
  EXPECT_GE(changed->stats.new_chunks, 2u);
  EXPECT_LE(changed->stats.new_chunks, 6u) << "of " << first->stats.new_chunks;
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
  EXPECT_GT(first->stats.new_chunks, 0u);
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
