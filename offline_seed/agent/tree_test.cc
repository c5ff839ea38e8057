// ChunkTree, the chunking pipeline as a whole: files read in windows, chunks cut across them, hashed and compressed
// on the workers and handed on in order, with files that change, vanish or cannot be read while they are read.
#include "offline_seed/agent/tree.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/chunk_vectors_testing.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;

std::string Tmp(const std::string& n) {
  return vmb::testing::TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name() + n);
}

void Write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  ASSERT_THAT(file::WriteFileAtomic(path, data, mode), IsOk());
}

// Every golden input as a file (the window-edges one has cuts a few bytes into the 8 and 16 MiB windows, whose hash
// needs the previous window's bytes): each large file's chunks are exactly the format's, each small one (at most
// kPackMax bytes) is packed whole into a segment and comes back from it, and new chunks reach the sink once each.
TEST(ChunkTree, RecordsTheFormatsChunksOfEveryFile) {
  const std::string src = Tmp("-tree");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  std::map<std::string, testing::ChunkVector> files;
  for (testing::ChunkVector& v : testing::LoadChunkVectors()) {
    Write(src + "/" + v.name, v.data, 0644);
    files[v.name] = std::move(v);
  }
  ASSERT_GE(files.size(), 8u);
  auto tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  std::map<std::string, std::string> sunk;  // by hash: the chunk's bytes
  ChunkOptions o;
  o.threads = 3;
  auto stats = ChunkTree(*tree, o, [&](const std::string& hash, uint32_t length, const std::string& frame) {
    EXPECT_EQ(sunk.count(hash), 0u) << "sunk twice: " << hash;
    ASSIGN_OR_RETURN(sunk[hash], OpenChunk(frame, length, hash, "in the test's sink"));
    return absl::OkStatus();
  });
  ASSERT_THAT(stats.status(), IsOk());
  size_t chunks = 0, packed = 0, cut = 0;
  for (const proto::Entry& e : tree->entries) {
    if (e.type() != "file") continue;
    const testing::ChunkVector& v = files.at(e.path().substr(e.path().find('/') + 1));
    chunks += e.chunks_size();
    if (!v.data.empty() && v.data.size() <= kPackMax) {
      ++packed;
      ASSERT_EQ(e.chunks_size(), 1) << e.path();
      ASSERT_EQ(sunk.count(e.chunks(0)), 1u) << e.path();
      EXPECT_TRUE(sunk[e.chunks(0)].substr(e.chunkoffset(), v.data.size()) == v.data) << e.path();
      continue;
    }
    ++cut;
    std::vector<std::string> want;
    size_t start = 0;
    for (size_t end : v.ends) {
      want.push_back(crypto::Base16Encode(crypto::Sha256(v.data.substr(start, end - start))));
      start = end;
    }
    EXPECT_THAT(e.chunks(), ::testing::ElementsAreArray(want)) << e.path();
    EXPECT_EQ(e.chunkoffset(), 0u) << e.path();
    for (const std::string& h : want) EXPECT_EQ(sunk.count(h), 1u) << e.path();
  }
  EXPECT_GE(packed, 2u);
  EXPECT_GE(cut, 4u);
  EXPECT_EQ(stats->new_chunks, sunk.size());
  EXPECT_EQ(stats->chunks, chunks);
}

// Chunks `known` vouches for are not compressed or handed on; files `unchanged` vouches for are not read.
TEST(ChunkTree, KnownChunksAndUnchangedFilesAreSkipped) {
  const std::string src = Tmp("-src");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/a", std::string(100, 'a'));
  Write(src + "/b", std::string(100, 'b'));
  auto tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());

  ChunkOptions o;
  o.known = [](const std::string& h) { return h == crypto::Base16Encode(crypto::Sha256(std::string(100, 'a'))); };
  o.unchanged = [&](proto::Entry* e) {
    if (e->path() != "0/b") return false;
    e->add_chunks("from-the-last-backup");
    return true;
  };
  int handed = 0;
  auto stats = ChunkTree(*tree, o, [&](const std::string&, uint32_t, const std::string&) {
    ++handed;
    return absl::OkStatus();
  });
  ASSERT_THAT(stats.status(), IsOk());
  EXPECT_EQ(handed, 0);
  EXPECT_EQ(stats->chunks, 2u);
  EXPECT_EQ(stats->files_unchanged, 1u);
  EXPECT_THAT(tree->entries[2].chunks(), ::testing::ElementsAre("from-the-last-backup"));
}

// The sink's error stops the pipeline and is returned.
TEST(ChunkTree, TheSinksErrorIsReturned) {
  const std::string src = Tmp("-src");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/a", std::string(5u << 20, 'a'));
  auto tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  auto stats = ChunkTree(*tree, ChunkOptions(), [](const std::string&, uint32_t, const std::string&) {
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_THAT(stats.status(), vmb::testing::StatusIs(absl::StatusCode::kResourceExhausted, "disk full"));
}

// Reassembles each file of a chunked tree from the chunks the sink got (the stored stream, holes not included).
std::map<std::string, std::string> Reassemble(const SourceTree& tree,
                                              const std::map<std::string, std::string>& chunks) {
  std::map<std::string, std::string> out;
  for (const proto::Entry& e : tree.entries) {
    if (e.type() != "file") continue;
    std::string& data = out[e.path()];
    ChunkSlicer slicer(e);
    for (const std::string& h : e.chunks()) {
      absl::StatusOr<ChunkSlicer::Slice> s = slicer.Next(chunks.at(h).size(), e.path());
      EXPECT_THAT(s.status(), IsOk());
      if (s.ok()) data += chunks.at(h).substr(s->skip, s->length);
    }
    EXPECT_THAT(slicer.Done(e.path()), IsOk());
  }
  return out;
}

absl::StatusOr<ChunkStats> ChunkInto(SourceTree& tree, std::map<std::string, std::string>* chunks) {
  ChunkOptions o;
  o.threads = 2;
  return ChunkTree(tree, o, [&](const std::string& hash, uint32_t, const std::string& frame) -> absl::Status {
    ASSIGN_OR_RETURN(
        (*chunks)[hash],
        OpenChunk(frame, static_cast<uint32_t>(ZSTD_getFrameContentSize(frame.data(), frame.size())), hash, "test"));
    return absl::OkStatus();
  });
}

const proto::Problem* ProblemFor(const SourceTree& tree, const std::string& path) {
  for (const proto::Problem& p : tree.problems) {
    if (p.path() == path) return &p;
  }
  return nullptr;
}

// A file deleted between the walk and its read (a temp file) is skipped with a note, its other names with it; the
// rest of the backup goes on.
TEST(Capture, AFileDeletedAfterTheWalkIsSkippedWithANote) {
  const std::string src = Tmp("-src");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/cache-00.tmp", "temporary");
  ASSERT_EQ(::link((src + "/cache-00.tmp").c_str(), (src + "/other-name").c_str()), 0);
  Write(src + "/keep.txt", "kept");
  absl::StatusOr<SourceTree> tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  ASSERT_EQ(::unlink((src + "/cache-00.tmp").c_str()), 0);
  ASSERT_EQ(::unlink((src + "/other-name").c_str()), 0);
  std::map<std::string, std::string> chunks;
  ASSERT_THAT(ChunkInto(*tree, &chunks).status(), IsOk());
  std::vector<std::string> paths;
  for (const proto::Entry& e : tree->entries) paths.push_back(e.path());
  EXPECT_THAT(paths, ::testing::ElementsAre("0", "0/keep.txt"));
  const proto::Problem* p = ProblemFor(*tree, tree->roots[0] + "/cache-00.tmp");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind(), "vanished");
  EXPECT_FALSE(Incomplete(tree->problems));
  EXPECT_EQ(tree->bytes, 4u);
}

// Rewrites (or appends to) a file without pause until stopped, each pass with the next generation's byte.
class Scribbler {
 public:
  Scribbler(std::string path, bool append) : path_(std::move(path)), append_(append), thread_([this] { Run(); }) {}
  ~Scribbler() {
    stop_ = true;
    thread_.join();
  }
  int generations() const { return generation_; }

 private:
  void Run() {
    const std::string block(1u << 20, '\0');
    while (!stop_) {
      int fd = ::open(path_.c_str(), O_WRONLY | (append_ ? O_APPEND : 0));
      if (fd < 0) return;
      std::string data(append_ ? (64u << 10) : (8u << 20), static_cast<char>('a' + generation_ % 26));
      for (size_t at = 0; at < data.size() && !stop_;) {
        ssize_t n = append_ ? ::write(fd, data.data() + at, std::min<size_t>(data.size() - at, 4096))
                            : ::pwrite(fd, data.data() + at, std::min<size_t>(data.size() - at, 65536), at);
        if (n <= 0) break;
        at += static_cast<size_t>(n);
      }
      ::close(fd);
      ++generation_;
    }
  }
  std::string path_;
  bool append_;
  std::atomic<bool> stop_{false};
  std::atomic<int> generation_{0};
  std::thread thread_;
};

// A file rewritten while it is read, without pause, never settles: it is read 4 times, kept as last read and named
// "changed"; the size recorded is the size of the bytes captured. A quiet file beside it is read once, consistent.
TEST(Capture, AFileRewrittenWhileReadIsRetriedThenNamed) {
  const std::string src = Tmp("-src");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/busy.db", std::string(8u << 20, 'a'));
  Write(src + "/log.txt", std::string(1u << 20, 'a'));
  Write(src + "/quiet.bin", std::string(4u << 20, 'q'));
  absl::StatusOr<SourceTree> tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  std::map<std::string, std::string> chunks;
  {
    Scribbler rewrite(src + "/busy.db", false), append(src + "/log.txt", true);
    while (rewrite.generations() < 2 || append.generations() < 2) std::this_thread::yield();
    ASSERT_THAT(ChunkInto(*tree, &chunks).status(), IsOk());
  }
  std::map<std::string, std::string> data = Reassemble(*tree, chunks);
  for (const proto::Entry& e : tree->entries) {
    if (e.type() == "file") {
      EXPECT_EQ(e.size(), data[e.path()].size()) << e.path() << ": the size is the size captured";
    }
  }
  // File times tick at the kernel's coarse clock (a few ms), so an attempt can read between two ticks and see no
  // change: a file is then either named, after 4 attempts, or its copy is one generation throughout.
  int named = 0;
  for (const char* name : {"busy.db", "log.txt"}) {
    const proto::Problem* p = ProblemFor(*tree, tree->roots[0] + "/" + name);
    if (p != nullptr) {
      ++named;
      EXPECT_EQ(p->kind(), "changed");
      EXPECT_THAT(p->detail(), HasSubstr("4 times"));
    } else if (std::string(name) == "busy.db") {
      // Not named: the copy must be a state the file had at one instant. The writer rewrites it front to back in
      // 64 KiB blocks, and on a busy machine it can be paused mid-way for a whole read, so that state is one
      // generation throughout, or the next generation up to a 64 KiB boundary and the previous one after it.
      const std::string& copy = data["0/busy.db"];
      const size_t cut = copy.find_first_not_of(copy[0]);
      if (cut != std::string::npos) {
        EXPECT_EQ(cut % 65536, 0u) << "a torn copy was not named";
        EXPECT_EQ(copy.find_first_not_of(copy[cut], cut), std::string::npos) << "a torn copy was not named";
        EXPECT_EQ(copy[0], static_cast<char>(copy[cut] == 'z' ? 'a' : copy[cut] + 1))
            << "a copy mixing generations out of order was not named";
      }
    }
  }
  EXPECT_GE(named, 1) << "files written without pause during the whole read were never seen changing";
  EXPECT_EQ(ProblemFor(*tree, tree->roots[0] + "/quiet.bin"), nullptr);
  EXPECT_EQ(data["0/quiet.bin"], std::string(4u << 20, 'q'));
  EXPECT_FALSE(Incomplete(tree->problems));  // changed files are kept: a note, not a failure
}

}  // namespace
}  // namespace vmb::offline
