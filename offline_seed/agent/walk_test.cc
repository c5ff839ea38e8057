#include "offline_seed/agent/walk.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(DisplayPath, EscapesWhatIsNotPrintableUtf8) {
  struct Case {
    std::string path, shown;
  };
  const std::vector<Case> cases = {
      {"plain/name.txt", "plain/name.txt"},  {"d\xC3\xA9j\xC3\xA0", "d\xC3\xA9j\xC3\xA0"},
      {"\xff\xfe.bin", "\\xff\\xfe.bin"},    {"new\nline", "new\\x0aline"},
      {std::string("nul\0", 4), "nul\\x00"}, {"cut\xC3", "cut\\xc3"},
  };
  for (const Case& c : cases) EXPECT_EQ(DisplayPath(c.path), c.shown) << c.shown;
}

TEST(Incomplete, OnlyUnreadableEntriesMakeABackupIncomplete) {
  std::vector<proto::Problem> problems;
  for (const char* kind : {"vanished", "changed", "skipped"}) NoteProblem("/x", kind, "", &problems);
  EXPECT_FALSE(Incomplete(problems));
  NoteProblem("/y\xff", "unreadable", "Permission denied", &problems);
  EXPECT_TRUE(Incomplete(problems));
  EXPECT_EQ(problems.back().path(), "/y\\xff");
}

// Entries sorted by name under "<root index>/", a second name of a file as a hard link to the first, a socket
// skipped with a note; sizes counted once.
TEST(WalkSources, RecordsEveryKindOfEntry) {
  const std::string src = vmb::testing::PerTestDir("-src");
  ASSERT_THAT(file::MakeDirs(src + "/dir"), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(src + "/dir/b", "bbb", 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(src + "/a", "aaaaa", 0600), IsOk());
  ASSERT_EQ(::link((src + "/a").c_str(), (src + "/z-second-name").c_str()), 0);
  ASSERT_EQ(::symlink("dir/b", (src + "/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0600), 0);
  // A socket, bound by a relative name (the test folder's path is longer than a socket address holds).
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(src.c_str()), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "sock");
  const int bound = ::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_EQ(bound, 0);

  absl::StatusOr<SourceTree> tree = WalkSources({src});
  ::close(sock);
  ASSERT_THAT(tree.status(), IsOk());
  std::vector<std::string> listed;
  for (const proto::Entry& e : tree->entries) listed.push_back(e.path() + " " + e.type() + " " + e.target());
  EXPECT_THAT(listed, ElementsAre("0 dir ", "0/a file ", "0/dir dir ", "0/dir/b file ", "0/fifo fifo ",
                                  "0/link symlink dir/b", "0/z-second-name hardlink 0/a"));
  EXPECT_EQ(tree->bytes, 8u);
  EXPECT_EQ(tree->files.size(), 2u);
  ASSERT_EQ(tree->problems.size(), 1u);
  EXPECT_EQ(tree->problems[0].kind(), "skipped");
  EXPECT_THAT(tree->problems[0].detail(), HasSubstr("socket"));
}

TEST(WalkSources, BadSourcesAreRefused) {
  const std::string src = vmb::testing::PerTestDir("-src");
  ASSERT_THAT(file::WriteFileAtomic(src + "/f", "x", 0644), IsOk());
  EXPECT_THAT(WalkSources({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no source folder")));
  EXPECT_THAT(WalkSources({src + "/f"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a folder")));
  EXPECT_THAT(WalkSources({src, src + "/."}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given twice")));
  EXPECT_THAT(WalkSources({src}, src + "/not/yet/staging"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the source")));
  EXPECT_THAT(WalkSources({src}, src + "-staging").status(), IsOk());  // a sibling with a common prefix is outside
}

}  // namespace
}  // namespace vmb::offline
