#include "offline_seed/agent/window_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/chunker.h"

namespace vmb::offline {
namespace {

using ::vmb::testing::IsOk;

// Reads every window of `tree`; returns the stream of each entry (by index) rebuilt from the windows, checking each
// window's warm-up bytes are the stream's just before it.
std::map<size_t, std::string> ReadAll(WindowReader* reader, std::vector<Window>* windows = nullptr) {
  std::map<size_t, std::string> streams;
  Window w;
  while (reader->Next(&w)) {
    std::string& s = streams[w.entry];
    if (w.first) s.clear();
    EXPECT_EQ(w.start, s.size());
    EXPECT_EQ(w.warmup, w.first ? 0u : kGearWarmup);
    if (!w.first) {
      EXPECT_EQ(w.buf->substr(0, w.warmup), s.substr(s.size() - w.warmup));
    }
    s.append(w.buf->data() + w.warmup, w.size);
    if (windows != nullptr) windows->push_back(w);
  }
  return streams;
}

// A file is read in full windows with their warm-up, the last one marked; a sparse file by its data only.
// Until the kernel's coarse clock (which stamps file times) is past `path`'s change time. Polls: nothing signals it.
void WaitForTheNextClockTick(const std::string& path) {
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  for (int i = 0; i < 1000; ++i) {
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (now.tv_sec > st.st_ctim.tv_sec || (now.tv_sec == st.st_ctim.tv_sec && now.tv_nsec > st.st_ctim.tv_nsec)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << "the coarse clock did not move in a second";
}

TEST(WindowReader, ReadsEachFileInWindows) {
  const std::string src = vmb::testing::PerTestDir("-src");
  const std::string data = crypto::SecureRandom().Bytes(2 * WindowReader::kWindow + 100);
  ASSERT_THAT(file::WriteFileAtomic(src + "/big", data, 0644), IsOk());
  int fd = ::open((src + "/sparse").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64 << 20), 0);
  ASSERT_EQ(::pwrite(fd, "data", 4, 32 << 20), 4);
  ::close(fd);
  // Files written in the coarse clock's current tick are read twice (they may change unseen, see Racy in
  // window_reader.cc): this test is about one quiet read, so it waits for the tick to pass.
  WaitForTheNextClockTick(src + "/sparse");
  absl::StatusOr<SourceTree> tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  WindowReader reader(&*tree, nullptr, [](uint64_t) {});
  std::vector<Window> windows;
  std::map<size_t, std::string> streams = ReadAll(&reader, &windows);
  EXPECT_TRUE(streams[1] == data);
  ASSERT_EQ(tree->entries[2].extents_size(), 1);
  EXPECT_EQ(streams[2].substr(0, 4), "data");
  EXPECT_LT(streams[2].size(), 1u << 20) << "the hole was read";
  ASSERT_GE(windows.size(), 4u);
  EXPECT_FALSE(windows[0].eof);
  EXPECT_TRUE(windows[2].eof);
  EXPECT_TRUE(windows.back().eof);
  EXPECT_TRUE(reader.Current(1, 0));
}

// A file gone before it is read is dropped and noted; a file `unchanged` vouches for is not read.
TEST(WindowReader, DropsVanishedFilesAndSkipsUnchangedOnes) {
  const std::string src = vmb::testing::PerTestDir("-src");
  ASSERT_THAT(file::WriteFileAtomic(src + "/gone", "temporary", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(src + "/same", "unchanged", 0644), IsOk());
  absl::StatusOr<SourceTree> tree = WalkSources({src});
  ASSERT_THAT(tree.status(), IsOk());
  ASSERT_EQ(::unlink((src + "/gone").c_str()), 0);
  uint64_t skipped = 0;
  WindowReader reader(
      &*tree,
      [&](proto::Entry* e) {
        if (e->path() != "0/same") return false;
        e->add_chunks("abc");
        return true;
      },
      [&](uint64_t bytes) { skipped += bytes; });
  EXPECT_TRUE(ReadAll(&reader).empty());
  EXPECT_EQ(skipped, 9u);
  EXPECT_TRUE(reader.dropped()[1]);
  EXPECT_FALSE(reader.Current(1, 0));
  EXPECT_THAT(tree->entries[2].chunks(), ::testing::ElementsAre("abc"));
  ASSERT_EQ(tree->problems.size(), 1u);
  EXPECT_EQ(tree->problems[0].kind(), "vanished");
}

}  // namespace
}  // namespace vmb::offline
