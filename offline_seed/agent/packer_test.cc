#include "offline_seed/agent/packer.h"

#include <sys/stat.h>

#include "absl/strings/str_format.h"
#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Image(const std::string& dir, int n) { return absl::StrFormat("%s/image-%04d.vhd", dir, n); }

// Frames go back to back; one that does not fit in the current image starts the next; each image is padded to a
// whole number of 512-byte pages when it is closed.
TEST(ImageWriter, PacksFramesBackToBackAcrossImages) {
  const std::string dir = vmb::testing::PerTestDir();
  ImageWriter writer(dir, 4096);
  struct Case {
    size_t size;
    uint32_t image;
    uint64_t offset;
  };
  const std::vector<Case> cases = {{1, 0, 0}, {512, 0, 1}, {513, 0, 513}, {3100, 1, 0}, {996, 1, 3100}, {1, 2, 0}};
  for (size_t i = 0; i < cases.size(); ++i) {
    absl::StatusOr<proto::Chunk> c = writer.Append(std::string(cases[i].size, static_cast<char>('a' + i)));
    ASSERT_THAT(c.status(), IsOk());
    EXPECT_EQ(c->image(), cases[i].image) << i;
    EXPECT_EQ(c->offset(), cases[i].offset) << i;
    EXPECT_EQ(c->compressedlength(), cases[i].size) << i;
  }
  ASSERT_THAT(writer.Close(), IsOk());
  EXPECT_EQ(writer.images(), 3u);
  std::string first = *file::ReadFile(Image(dir, 0));
  ASSERT_EQ(first.size(), 1536u);  // 1026 bytes of frames, padded
  EXPECT_EQ(first.substr(0, 2), "ab");
  EXPECT_EQ(first.substr(513, 513), std::string(513, 'c'));
  EXPECT_EQ(first.substr(1026), std::string(510, '\0'));
  EXPECT_EQ(file::ReadFile(Image(dir, 1))->size(), 4096u);  // exactly full: no padding
  EXPECT_EQ(file::ReadFile(Image(dir, 2))->size(), 512u);
  EXPECT_EQ(PaddedSize(0), 0u);
  EXPECT_EQ(PaddedSize(1), 512u);
  EXPECT_EQ(PaddedSize(512), 512u);
}

// Many small frames are gathered into large writes; every one lands at the offset it was given.
TEST(ImageWriter, ManySmallFramesLandWhereTheyWereGiven) {
  const std::string dir = vmb::testing::PerTestDir();
  ImageWriter writer(dir, 8u << 20);
  std::vector<proto::Chunk> chunks;
  for (int i = 0; i < 5000; ++i) {
    absl::StatusOr<proto::Chunk> c = writer.Append(std::string(300 + i % 700, static_cast<char>(i)));
    ASSERT_THAT(c.status(), IsOk());
    chunks.push_back(*c);
  }
  ASSERT_THAT(writer.Close(), IsOk());
  std::string image = *file::ReadFile(Image(dir, 0));
  EXPECT_EQ(image.size() % 512, 0u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(image.substr(chunks[i].offset(), chunks[i].compressedlength()),
              std::string(300 + i % 700, static_cast<char>(i)))
        << i;
  }
}

TEST(ImageWriter, AFolderThatCannotBeWrittenIsNamed) {
  ImageWriter writer(vmb::testing::TempPath("no/such/folder"), 4096);
  EXPECT_THAT(writer.Append("frame").status(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot create")));
  EXPECT_THAT(writer.Close(), IsOk());  // nothing open
}

}  // namespace
}  // namespace vmb::offline
