#include "common/log/logger.h"

#include <cstdlib>

#include "common/file/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOk;

TEST(Logger, LevelsTimestampsAndRedactionInEverySink) {
  FakeClock clock(absl::FromUnixMillis(1763818801123));
  Logger log(LogLevel::kInfo, clock);
  std::vector<std::string> lines;
  log.AddSink([&](absl::string_view line) { lines.emplace_back(line); });
  std::string path = ::vmb::testing::TempDir() + "/x.log";
  ASSERT_THAT(log.AddFileSink(path), IsOk());

  log.Debug("hidden {}", 1);
  log.Info("snapshot {} done in {} ms", "https://a.blob.core.windows.net/c/b?sv=1&sig=TOPSECRET%3D&se=2", 12);
  log.Error("key AccountKey={}", "S3CR3TKEY==");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "2025-11-22T13:40:01.123Z INFO snapshot https://a.blob.core.windows.net/c/b?sv=1&sig=REDACTED&se=2 "
            "done in 12 ms\n");
  EXPECT_THAT(lines[1], HasSubstr("ERROR key AccountKey=REDACTED"));
  std::string file = *file::ReadFile(path);
  EXPECT_THAT(file, Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(file, Not(HasSubstr("S3CR3TKEY")));
  EXPECT_THAT(file, HasSubstr("done in 12 ms"));
}

}  // namespace
}  // namespace vmb
