#include "common/file/file_util.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::file {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

std::string TempDir() { return ::vmb::testing::TempDir(); }

TEST(FileUtil, WriteAtomicSetsExactModeAndReadsBack) {
  std::string dir = TempDir() + "/a/b/c";
  ASSERT_THAT(MakeDirs(dir), IsOk());
  std::string path = dir + "/secret.prv";
  ::umask(0);
  ASSERT_THAT(WriteFileAtomic(path, "key material", 0600), IsOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_THAT(ReadFile(path), IsOkAndHolds(std::string("key material")));
  ASSERT_THAT(WriteFileAtomic(path, "v2", 0644), IsOk());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_THAT(ReadFile(path), IsOkAndHolds(std::string("v2")));
}

TEST(FileUtil, ScratchFolderIsTmpdirElseVarTmp) {
  const char* before = std::getenv("TMPDIR");
  const std::string kept = before != nullptr ? before : "";
  ASSERT_EQ(::setenv("TMPDIR", "/srv/scratch", 1), 0);
  EXPECT_EQ(ScratchFolder(), "/srv/scratch");
  ASSERT_EQ(::setenv("TMPDIR", "", 1), 0);
  EXPECT_EQ(ScratchFolder(), "/var/tmp") << "empty is unset";
  ASSERT_EQ(::unsetenv("TMPDIR"), 0);
  EXPECT_EQ(ScratchFolder(), "/var/tmp");
  if (before != nullptr) ::setenv("TMPDIR", kept.c_str(), 1);
}

TEST(FileUtil, MissingFileIsNotFoundWithPath) {
  EXPECT_THAT(ReadFile(TempDir() + "/nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nope")));
  EXPECT_THAT(WriteFileAtomic(TempDir() + "/no/such/dir/f", "x", 0600), StatusIs(absl::StatusCode::kNotFound));
}

TEST(FileUtil, ListDirGivesSortedNamesWithoutDotsAndNamesAMissingFolder) {
  const std::string dir = TempDir() + "/listdir";
  ASSERT_THAT(MakeDirs(dir + "/sub"), IsOk());
  for (const char* n : {"b", "a", "C", ".hidden"}) ASSERT_THAT(WriteFileAtomic(dir + "/" + n, "", 0600), IsOk());
  EXPECT_THAT(ListDir(dir), IsOkAndHolds(std::vector<std::string>{".hidden", "C", "a", "b", "sub"}));
  EXPECT_THAT(ListDir(dir + "/nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nope")));
}

}  // namespace
}  // namespace vmb::file
