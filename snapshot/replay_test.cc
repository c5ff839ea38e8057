// Replays every captured settings fixture (testdata/protected_settings/) end to end: real HTTP against an Azurite
// started by this test, real CMS decryption, the whole enable flow, snapshots verified by listing them.
#include "snapshot/replay.h"

#include <dirent.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;

constexpr char kFixtures[] = "testdata/protected_settings";

std::vector<std::string> FixtureNames() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(kFixtures)) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && n != "test_cert" && e->d_type == DT_DIR) out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ReplayTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::Azurite>> a = testing::Azurite::Start();
    if (a.ok())
      azurite_ = a->release();
    else
      start_error_ = new std::string(a.status().ToString());
    transport_ = http::NewCurlTransport().release();
  }
  static void TearDownTestSuite() {
    delete azurite_;
    delete transport_;
  }
  static testing::Azurite* azurite_;
  static std::string* start_error_;
  static http::HttpTransport* transport_;
};

testing::Azurite* ReplayTest::azurite_ = nullptr;
std::string* ReplayTest::start_error_ = nullptr;
http::HttpTransport* ReplayTest::transport_ = nullptr;

TEST_P(ReplayTest, OutcomeMatchesFixture) {
  ASSERT_NE(azurite_, nullptr) << *start_error_;
  ReplayOptions o;
  o.blob_endpoint = azurite_->endpoint();
  o.transport = transport_;
  o.work_dir = vmb::testing::TempDir();
  ReplayOutcome outcome = ReplayFixture(std::string(kFixtures) + "/" + GetParam(), o);
  EXPECT_TRUE(outcome.passed) << outcome.report;
}

TEST(FixtureSet, HasTheRequiredFixtures) {
  std::vector<std::string> names = FixtureNames();
  for (const char* required : {"seed-sample-de", "seed-sample-nl", "seed-sample-sv", "seed-sample-fr", "seed-sample-en",
                               "bad-base64", "wrong-thumbprint", "missing-statusbloburi", "unknown-command",
                               "late-ticks", "empty-blob-list", "missing-taskid", "unknown-vmtype", "classic-vmtype"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

// The sv and fr fixtures carry the ticks exactly as seeds 002 and 003 print them, blanks around the sign included
// (sv: ASCII spaces; fr: no-break spaces U+00A0), so their replay reads the translated form end to end.
TEST(FixtureSet, SeedSamplesKeepTheSeedsTicksText) {
  struct Case {
    const char* fixture;
    const char* ticks;  // as it appears in settings.json
  } cases[] = {
      {"seed-sample-de", R"("6.36458E+17")"},
      {"seed-sample-nl", R"("6.36458E+17")"},
      {"seed-sample-sv", R"("6.36458E + 17")"},
      {"seed-sample-fr", R"("6.36458E\u00a0+\u00a017")"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> text = file::ReadFile(absl::StrCat(kFixtures, "/", c.fixture, "/settings.json"));
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_THAT(*text, HasSubstr(absl::StrCat(R"("commandStartTimeUTCTicks": )", c.ticks))) << c.fixture;
  }
}

// Rebasing keeps the textual form: the same number of decimals and the same text around "E" and the sign.
TEST(FormatTicksLike, KeepsTheCapturedForm) {
  const int64_t now = 639012345678901234;
  struct Case {
    std::string original, expected;
  } cases[] = {
      {"636458000000000000", "639012345678901234"},
      {"6.36458E+17", "6.39012E+17"},
      {"6.36458e17", "6.39012e17"},
      {"6.36458E + 17", "6.39012E + 17"},
      {"6.36458E\u00a0+\u00a017", "6.39012E\u00a0+\u00a017"},
      {"6.36458 E+17", "6.39012 E+17"},
      {"E+", "E+"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatTicksLike(c.original, now), c.expected) << c.original;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReplayTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace vmb::snapshot
