// Replays every captured settings fixture (testdata/protected_settings/) end to end: real HTTP against an Azurite
// started by this test, real CMS decryption, the whole enable flow, snapshots verified by listing them.
#include <dirent.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/http/curl_transport.h"
#include "common/testing/azurite.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "snapshot/replay.h"

namespace vmb::snapshot {
namespace {

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
    if (a.ok()) azurite_ = a->release();
    else start_error_ = new std::string(a.status().ToString());
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
  for (const char* required : {"seed-sample-de", "seed-sample-nl", "seed-sample-sv", "seed-sample-fr",
                               "seed-sample-en", "bad-base64", "wrong-thumbprint", "missing-statusbloburi",
                               "unknown-command", "late-ticks", "empty-blob-list"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReplayTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace vmb::snapshot
