#include "offline_seed/agent/staging.h"

#include "offline_seed/agent/tree.h"
#include "offline_seed/agent/tree_testing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <cstdlib>
#include <atomic>
#include <thread>

#include <zstd.h>

#include "absl/strings/str_format.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Tmp(const std::string& n) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + n;
}

void Write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  ASSERT_THAT(file::WriteFileAtomic(path, data, mode), IsOk());
}

InitiateOptions Options(const std::string& src, const std::string& staging) {
  InitiateOptions o;
  o.sources = {src};
  o.staging = staging;
  o.job.set_jobname("seedjob1");
  o.job.set_subscriptionid("sub-123");
  o.job.set_storageaccount("seedacct");
  o.job.set_container("offline");
  o.image_size = 2u << 20;  // small images, so several are used
  return o;
}

TEST(Staging, RoundTripKeepsEverythingAndCompressesAndDedupes) {
  std::string src = Tmp("src"), staging = Tmp("staging"), out = Tmp("out");
  ASSERT_THAT(file::MakeDirs(src + "/sub"), IsOk());
  ASSERT_THAT(file::MakeDirs(src + "/emptydir"), IsOk());
  Write(src + "/big.bin", crypto::SecureRandom().Bytes(5u << 20));
  std::string block = crypto::SecureRandom().Bytes(300000);
  Write(src + "/repeat.bin", block + block + block + block);  // dedupes
  Write(src + "/text.txt", std::string(3u << 20, 'a'));        // compresses
  Write(src + "/empty", "");
  Write(src + "/d\xC3\xA9j\xC3\xA0 v\xC3\xBC.txt", "non-ASCII name", 0640);
  Write(src + "/\xff\xfe.bin", "not UTF-8 at all");
  Write(src + "/sub/deep.txt", "deep");
  ASSERT_EQ(::symlink("sub/deep.txt", (src + "/link").c_str()), 0);
  timespec times[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/empty").c_str(), times, 0), 0);

  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options(src, staging));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->sourcebytes(), (5u << 20) + 1200000 + (3u << 20) + 14 + 16 + 4);
  EXPECT_LT(job->stagedbytes(), job->sourcebytes() * 7 / 10);  // the text compresses, the repeats dedupe
  EXPECT_LT(job->uniquechunks(), job->chunks());
  EXPECT_EQ(job->state(), "Staged");
  EXPECT_EQ(ReadStagedJob(staging)->jobname(), "seedjob1");
  struct stat st;
  ASSERT_EQ(::stat((staging + "/images/image-0001.vhd").c_str(), &st), 0);  // several images
  EXPECT_EQ(st.st_size % 512, 0);

  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  EXPECT_EQ(testing::ExpectSameTree(src, out + "/0"), 11);  // every entry compared
  EXPECT_EQ(*file::ReadFile(out + "/0/sub/deep.txt"), "deep");
  EXPECT_EQ(*file::ReadFile(out + "/0/text.txt"), std::string(3u << 20, 'a'));

  // A second initiate on the same staging location is refused; the staged data is untouched.
  EXPECT_THAT(InitiateOfflineBackup(Options(src, staging)), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(Staging, BadInputAndDamageAreNamed) {
  std::string src = Tmp("src"), staging = Tmp("staging");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/f", crypto::SecureRandom().Bytes(100000));
  EXPECT_THAT(InitiateOfflineBackup(Options(src, src + "/staging")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the source")));
  EXPECT_THAT(InitiateOfflineBackup(Options(src + "/f", staging)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a folder")));
  EXPECT_THAT(ReadStagedJob(Tmp("nowhere")), StatusIs(absl::StatusCode::kNotFound, HasSubstr("seedagent initiate")));
  InitiateOptions o = Options(src, staging);
  o.job.clear_container();
  EXPECT_THAT(InitiateOfflineBackup(o), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("container")));

  ASSERT_TRUE(InitiateOfflineBackup(Options(src, staging)).ok());
  std::string image = staging + "/images/image-0000.vhd";
  std::string bytes = *file::ReadFile(image);
  bytes[100] ^= 0x5a;
  Write(image, bytes, 0600);
  EXPECT_THAT(RestoreFromStaging(staging, Tmp("out")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("damaged")));
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
      EXPECT_GE(a[i] - a[i - 1], 16u << 10);  // only the final chunk may be short
    }
    EXPECT_LE(a[i] - a[i - 1], 256u << 10);
  }
}

// The boundaries are part of the format (an incremental backup finds unchanged chunks by them), so they are checked
// against a byte-at-a-time implementation of the rule written from the format's definition, not from tree.cc's
// windowed, four-bytes-a-step scanner: the gear hash (SplitMix64 table, seed 0x5EEDC0DE5EEDC0DE) of the last 64 bytes
// with its top 16 bits clear, at least 16 KiB and at most 256 KiB apart. The table itself is pinned by
// TEST(Chunking, GearTableIsTheFormats) against entries computed outside this code (Python, see there).
std::array<uint64_t, 256> Gear() {
  std::array<uint64_t, 256> gear{};
  uint64_t x = 0x5EEDC0DE5EEDC0DEull;
  for (auto& v : gear) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    v = z ^ (z >> 31);
  }
  return gear;
}

// Known answers for the table, computed with Python's arbitrary-precision integers:
//   x = 0x5EEDC0DE5EEDC0DE; for each entry: x += 0x9E3779B97F4A7C15; z = x; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
//   z = (z ^ z>>27) * 0x94D049BB133111EB; entry = z ^ z>>31   (all mod 2^64)
TEST(Chunking, GearTableIsTheFormats) {
  const std::array<uint64_t, 256> gear = Gear();
  EXPECT_EQ(gear[0], 0xefa9d94bb7b295e2ull);
  EXPECT_EQ(gear[1], 0x6e2f8586ca09ffcaull);
  EXPECT_EQ(gear[255], 0x0e91bb31804e9a1bull);
}

// 64 bytes whose hash allows a boundary right after them.
std::string BoundaryBytes() {
  static const std::array<uint64_t, 256> gear = Gear();
  std::mt19937_64 rng(7);
  for (;;) {
    std::string b(64, '\0');
    uint64_t h = 0;
    for (char& c : b) {
      c = static_cast<char>(rng());
      h = (h << 1) + gear[static_cast<unsigned char>(c)];
    }
    if ((h & 0xFFFF000000000000ull) == 0) return b;
  }
}

std::vector<size_t> SerialBoundaries(const std::string& data) {
  static const std::array<uint64_t, 256> gear = Gear();
  std::vector<size_t> out;
  for (size_t start = 0; start < data.size();) {
    size_t end = std::min(data.size(), start + (256u << 10));
    uint64_t h = 0;
    for (size_t i = start; i < end; ++i) {
      h = (h << 1) + gear[static_cast<unsigned char>(data[i])];
      if (i + 1 - start >= (16u << 10) && i + 1 - start >= 64 && (h & 0xFFFF000000000000ull) == 0) {
        end = i + 1;
        break;
      }
    }
    out.push_back(end);
    start = end;
  }
  return out;
}

// Random bytes, a run of zeros (no boundary: cut at the maximum), repeated text: every kind of cut.
std::string MixedData(size_t size) {
  std::string data = crypto::SecureRandom().Bytes(size / 2);
  data.append(size / 8, '\0');
  while (data.size() < size) data += "offline seeding sends the initial backup on drives " + std::to_string(data.size());
  data.resize(size);
  return data;
}

TEST(Chunking, BoundariesMatchTheSerialRuleWhateverTheWindow) {
  std::string data = MixedData(3u << 20);
  std::vector<size_t> want = SerialBoundaries(data);
  ASSERT_GT(want.size(), 20u);
  for (size_t window : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}, size_t{(16u << 10) - 1},
                        size_t{(256u << 10) + 1}, size_t{1u << 20}, size_t{8u << 20}}) {
    EXPECT_EQ(ChunkBoundaries(data, window), want) << "window " << window;
  }
  EXPECT_EQ(ChunkBoundaries(""), std::vector<size_t>{});
  EXPECT_EQ(ChunkBoundaries("x"), std::vector<size_t>{1});
}

// The whole pipeline (files read in 2 MiB windows, chunks cut across them, hashed and compressed on the workers,
// handed on in order) records each file's chunks exactly as the serial rule cuts them.
TEST(Chunking, ChunkTreeRecordsTheSerialChunksOfEveryFile) {
  const std::string src = Tmp("-tree");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  std::map<std::string, std::string> files = {
      {"a-empty", ""}, {"b-tiny", "x"}, {"c-small", MixedData(20000)}, {"d-large", MixedData((19u << 20) + 12345)},
      {"e-window", MixedData(8u << 20)}, {"f-cut-just-past-windows", MixedData(24u << 20)}};
  // Boundaries a few bytes into a window (8 and 16 MiB start windows; their hash needs the previous window's bytes).
  std::string& f = files["f-cut-just-past-windows"];
  for (size_t end : {(8u << 20) + 10, (16u << 20) + 63}) {
    f.replace(end - (20u << 10), 20u << 10, std::string(20u << 10, 'z'));  // no boundary in the 20 KiB before
    f.replace(end - 64, 64, BoundaryBytes());
    std::vector<size_t> want = SerialBoundaries(f);
    ASSERT_EQ(std::count(want.begin(), want.end(), end), 1) << end;
  }
  for (const auto& [name, data] : files) Write(src + "/" + name, data, 0644);
  auto tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  std::vector<std::string> order;
  ChunkOptions o;
  o.threads = 3;
  auto stats = ChunkTree(*tree, o, [&](const std::string& hash, uint32_t length, const std::string& frame) {
    order.push_back(hash);
    return absl::OkStatus();
  });
  ASSERT_THAT(stats.status(), IsOk());
  std::vector<std::string> first_seen;
  std::set<std::string> seen;
  for (const proto::Entry& e : tree->entries) {
    if (e.type() != "file") continue;
    const std::string& data = files.at(e.path().substr(e.path().find('/') + 1));
    std::vector<std::string> want;
    size_t start = 0;
    for (size_t end : SerialBoundaries(data)) {
      want.push_back(crypto::Base16Encode(crypto::Sha256(data.substr(start, end - start))));
      start = end;
    }
    EXPECT_THAT(e.chunks(), ::testing::ElementsAreArray(want)) << e.path();
    for (const std::string& h : want) {
      if (seen.insert(h).second) first_seen.push_back(h);
    }
  }
  EXPECT_EQ(order, first_seen);  // new chunks reach the sink once each, in file order
  EXPECT_EQ(stats->new_chunks, first_seen.size());
}

// A staging location too small for the source: refused before anything is written, with what is free, what is
// needed and the way out. Holes need no space: an 8 TB sparse file with no data fits.
TEST(Staging, AFullStagingLocationIsRefusedBeforeWriting) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  int fd = ::open((src + "/huge.vhdx").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(8'000'000'000'000ull)), 0);
  ::close(fd);
  Write(src + "/data.bin", crypto::SecureRandom().Bytes(20u << 20));
  InitiateOptions o = Options(src, staging);
  o.free_space = [](const std::string&) -> uint64_t { return 30'000'000; };
  absl::StatusOr<proto::ImportJobRecord> r = InitiateOfflineBackup(o);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("choose a larger staging location")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("has 0.0 GB free; up to 0.0 GB may be needed"));
  EXPECT_FALSE(file::ReadFile(staging + "/offline-job.json").ok());
  EXPECT_FALSE(file::ReadFile(staging + "/catalogue.json").ok());
  o.free_space = [](const std::string&) -> uint64_t { return 50'000'000; };  // enough for the data, not the holes
  r = InitiateOfflineBackup(o);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->sourcebytes(), 8'000'000'000'000ull + (20u << 20));
  EXPECT_LT(r->stagedbytes(), 22u << 20);
}

proto::Entry E(const std::string& path, const std::string& type, const std::string& target = "") {
  proto::Entry e;
  e.set_path(path);
  e.set_type(type);
  e.set_target(target);
  e.set_mode(type == "dir" ? 0755 : 0644);
  return e;
}

// A tampered recovery point cannot write outside the restore target: not by "..", not by an absolute path, not by
// a file beneath a symlink it also lists (in either order). Nothing is written when the catalogue is refused.
TEST(Restore, RefusesEntriesThatWouldEscapeTheTarget) {
  const std::string outside = Tmp("-outside");
  ASSERT_THAT(file::MakeDirs(outside), IsOk());
  auto writer = [](const proto::Entry& e, int fd) { return StoredLayout(e).Write(fd, 0, "pwned", "x"); };
  const std::vector<std::vector<proto::Entry>> attacks = {
      {E("0", "dir"), E("0/../../escaped", "file")},
      {E("/etc/escaped", "file")},
      {E("0", "dir"), E("0/link", "symlink", outside), E("0/link/escaped", "file")},
      {E("0", "dir"), E("0/link/escaped", "file"), E("0/link", "symlink", outside)},
      {E("0", "dir"), E("0/f", "file"), E("0/f", "file")},
      {E("0", "dir"), E("0//x", "file")},
      {E("0", "dir"), E(std::string("0/a\0b", 5), "file")},
      {E("0", "dir"), E("0/x", "device")},
      {E("0", "dir"), E("0/h", "hardlink", "/etc/passwd")},           // a link to anything outside the tree
      {E("0", "dir"), E("0/d", "dir"), E("0/h", "hardlink", "0/d")},  // a link to a folder
      {E("0", "dir"), E("0/h", "hardlink", "0/f"), E("0/f", "file")},  // to a file not restored yet
  };
  for (size_t i = 0; i < attacks.size(); ++i) {
    const std::string target = Tmp(absl::StrFormat("-target%d", i));
    EXPECT_THAT(RestoreTree(attacks[i], target, writer), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tampered")))
        << "attack " << i;
    EXPECT_FALSE(file::ReadFile(outside + "/escaped").ok()) << "attack " << i;
    EXPECT_FALSE(file::ReadFile(target + "/0/link/escaped").ok()) << "attack " << i;
  }
  // The same shapes done right restore: a link to a folder outside is fine as a link (not followed).
  const std::string ok = Tmp("-ok");
  ASSERT_THAT(RestoreTree({E("0", "dir"), E("0/d", "dir"), E("0/d/f", "file"), E("0/link", "symlink", outside)}, ok,
                          writer),
              IsOk());
  EXPECT_EQ(*file::ReadFile(ok + "/0/d/f"), "pwned");
  EXPECT_FALSE(file::ReadFile(outside + "/f").ok());
  // A target that already holds something (here a symlink where a restored folder goes) is refused: nothing is
  // written through it.
  const std::string used = Tmp("-used");
  ASSERT_THAT(file::MakeDirs(used), IsOk());
  ASSERT_EQ(::symlink(outside.c_str(), (used + "/0").c_str()), 0);
  EXPECT_THAT(RestoreTree({E("0", "dir"), E("0/f", "file")}, used, writer),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not empty")));
  EXPECT_FALSE(file::ReadFile(outside + "/f").ok());
}

// Reassembles each file of a chunked tree from the chunks the sink got (the stored stream, holes not included).
std::map<std::string, std::string> Reassemble(const SourceTree& tree, const std::map<std::string, std::string>& chunks) {
  std::map<std::string, std::string> out;
  for (const proto::Entry& e : tree.entries) {
    if (e.type() != "file") continue;
    std::string& data = out[e.path()];
    for (const std::string& h : e.chunks()) data += chunks.at(h);
  }
  return out;
}

absl::StatusOr<ChunkStats> ChunkInto(SourceTree& tree, std::map<std::string, std::string>* chunks) {
  ChunkOptions o;
  o.threads = 2;
  return ChunkTree(tree, o, [&](const std::string& hash, uint32_t, const std::string& frame) -> absl::Status {
    ASSIGN_OR_RETURN((*chunks)[hash], OpenChunk(frame, static_cast<uint32_t>(ZSTD_getFrameContentSize(frame.data(), frame.size())), hash, "test"));
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
      const std::string& copy = data["0/busy.db"];
      EXPECT_EQ(copy.find_first_not_of(copy[0]), std::string::npos) << "a torn copy was not named";
    }
  }
  EXPECT_GE(named, 1) << "files written without pause during the whole read were never seen changing";
  EXPECT_EQ(ProblemFor(*tree, tree->roots[0] + "/quiet.bin"), nullptr);
  EXPECT_EQ(data["0/quiet.bin"], std::string(4u << 20, 'q'));
  EXPECT_FALSE(Incomplete(tree->problems));  // changed files are kept: a note, not a failure
}

// Sparse files are read by their data extents only: the holes are neither read nor stored, and a restore leaves
// them holes; the extents are in the entry.
TEST(Capture, SparseFilesStoreTheirDataOnly) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging"), out = Tmp("-out");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  const std::string path = src + "/vm.img";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  const uint64_t size = 4ull << 30;
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  const std::string data = crypto::SecureRandom().Bytes(1u << 20);
  for (uint64_t at : {uint64_t{0}, size / 2, size - (1u << 20)}) {
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(at)), static_cast<ssize_t>(data.size()));
  }
  ::close(fd);
  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options(src, staging));
  ASSERT_THAT(job.status(), IsOk());
  EXPECT_EQ(job->sourcebytes(), size);
  EXPECT_LT(job->stagedbytes(), 4u << 20);
  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  struct stat st;
  ASSERT_EQ(::stat((out + "/0/vm.img").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, 4u << 20) << "the holes were filled";
  fd = ::open((out + "/0/vm.img").c_str(), O_RDONLY);
  std::string back(data.size(), '\0');
  ASSERT_EQ(::pread(fd, back.data(), back.size(), static_cast<off_t>(size / 2)), static_cast<ssize_t>(back.size()));
  EXPECT_TRUE(back == data);
  ASSERT_EQ(::pread(fd, back.data(), 4096, static_cast<off_t>(size / 4)), 4096);
  EXPECT_EQ(back.substr(0, 4096), std::string(4096, '\0'));
  ::close(fd);
}

// Times before 1970 with nanoseconds and after 2262 (past a 64-bit nanosecond count) come back exactly.
TEST(Capture, TimesOverTheirFullRangeComeBack) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging"), out = Tmp("-out");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/old", "1900");
  Write(src + "/future", "2400");
  timespec old_t[2] = {{-2208988800 + 1, 123456789}, {-2208988800 + 1, 123456789}};  // 1900-01-01T00:00:01.123456789
  timespec future_t[2] = {{13569465600, 5}, {13569465600, 5}};                         // 2400-01-01T00:00:00.000000005
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/old").c_str(), old_t, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/future").c_str(), future_t, 0), 0);
  ASSERT_THAT(InitiateOfflineBackup(Options(src, staging)).status(), IsOk());
  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  struct stat a, b;
  for (const char* name : {"old", "future"}) {
    ASSERT_EQ(::stat((src + "/" + name).c_str(), &a), 0);
    ASSERT_EQ(::stat((out + "/0/" + name).c_str(), &b), 0);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << name;
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec) << name;
  }
  EXPECT_EQ(a.st_mtim.tv_sec, 13569465600);
}

// A relative --source is recorded as the absolute, canonical path (a scheduled backup runs from anywhere).
TEST(Capture, SourcesAreRecordedAbsolute) {
  const std::string base = Tmp("-base");
  ASSERT_THAT(file::MakeDirs(base + "/src"), IsOk());
  Write(base + "/src/f", "x");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(base.c_str()), 0);
  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options("./src/../src", base + "/staging"));
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_THAT(job.status(), IsOk());
  char real[4096];
  ASSERT_NE(::realpath((base + "/src").c_str(), real), nullptr);
  EXPECT_THAT(job->sources(), ::testing::ElementsAre(std::string(real)));
}

}  // namespace
}  // namespace vmb::offline
