#include "offline_seed/journal/journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

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

std::string Path(const std::string& n) { return ::vmb::testing::TempDir() + "/" + n; }

TEST(Journal, AppendsSurviveReopenAndTheFileIsPrivate) {
  std::string path = Path("j1");
  {
    auto j = *Journal::Open(path);
    ASSERT_THAT(j->Append(R"({"step":"formatted","drive":"D1"})"), IsOk());
    ASSERT_THAT(j->Append(R"({"step":"range","offset":0})"), IsOk());
    EXPECT_THAT(j->Append("two\nlines"), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  bool dropped = true;
  auto j = *Journal::Open(path, &dropped);
  EXPECT_FALSE(dropped);
  EXPECT_THAT(j->records(), ElementsAre(R"({"step":"formatted","drive":"D1"})", R"({"step":"range","offset":0})"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Journal, ATornTailIsDroppedAndAppendingContinues) {
  std::string path = Path("j2");
  {
    auto j = *Journal::Open(path);
    ASSERT_THAT(j->Append("a"), IsOk());
    ASSERT_THAT(j->Append("b"), IsOk());
  }
  std::string text = *file::ReadFile(path);
  for (size_t cut : {text.size() - 1, text.size() - 5, text.size() - 30}) {  // a crash mid-append at several points
    ASSERT_THAT(file::WriteFileAtomic(path, text.substr(0, cut), 0600), IsOk());
    bool dropped = false;
    auto j = *Journal::Open(path, &dropped);
    EXPECT_TRUE(dropped) << cut;
    EXPECT_THAT(j->records(), ElementsAre("a")) << cut;
    ASSERT_THAT(j->Append("c"), IsOk());
    EXPECT_THAT((*Journal::Open(path))->records(), ElementsAre("a", "c"));
    ASSERT_THAT(file::WriteFileAtomic(path, text, 0600), IsOk());
  }
}

TEST(Journal, CorruptionBeforeTheTailIsDataLoss) {
  std::string path = Path("j3");
  {
    auto j = *Journal::Open(path);
    ASSERT_THAT(j->Append("first"), IsOk());
    ASSERT_THAT(j->Append("second"), IsOk());
  }
  std::string text = *file::ReadFile(path);
  text[35] ^= 1;  // inside the first payload
  ASSERT_THAT(file::WriteFileAtomic(path, text, 0600), IsOk());
  EXPECT_THAT(Journal::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt at record 1")));
}

}  // namespace
}  // namespace vmb::offline
