// The on-disk digest set: membership and counts of new digests, bad input refused whole, a fresh or kept file, a
// temporary set, many threads at once, and sizes well past its page cache.
#include "common/index/digest_set.h"

#include <sys/stat.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::index {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

std::string Digest(int i) { return crypto::Base16Encode(crypto::Sha256(absl::StrCat("chunk ", i))); }

std::vector<std::string> Digests(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(Digest(i));
  return out;
}

TEST(DigestSet, KnowsWhatWasInsertedAndCountsWhatIsNew) {
  const std::string path = vmb::testing::PerTestDir() + "/index.db";
  auto set = DigestSet::Open(path);
  ASSERT_THAT(set.status(), IsOk());
  EXPECT_THAT((*set)->Contains(Digest(1)), IsOkAndHolds(false));
  EXPECT_THAT((*set)->Insert(Digests(0, 10)), IsOkAndHolds(10u));
  EXPECT_THAT((*set)->Insert(Digests(5, 15)), IsOkAndHolds(5u)) << "5..9 were there";
  EXPECT_THAT((*set)->Insert({Digest(20), Digest(20)}), IsOkAndHolds(1u)) << "twice in one call is one";
  EXPECT_EQ((*set)->size(), 16u);
  for (int i = 0; i < 15; ++i) EXPECT_THAT((*set)->Contains(Digest(i)), IsOkAndHolds(true)) << i;
  EXPECT_THAT((*set)->Contains(absl::AsciiStrToUpper(Digest(3))), IsOkAndHolds(true)) << "either case";
  EXPECT_THAT((*set)->Contains(Digest(15)), IsOkAndHolds(false));
  EXPECT_THAT((*set)->Contains("not a digest"), IsOkAndHolds(false));
  EXPECT_EQ((*set)->path(), path);
}

TEST(DigestSet, TextThatIsNotADigestIsRefusedAndNothingOfTheCallIsAdded) {
  auto set = DigestSet::Open("");
  ASSERT_THAT(set.status(), IsOk());
  EXPECT_THAT((*set)->Insert({Digest(1), "xyz", Digest(2)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a SHA-256 digest: \"xyz\"")));
  EXPECT_THAT((*set)->Insert({Digest(1), std::string(64, 'g')}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*set)->Contains(Digest(1)), IsOkAndHolds(false));
  EXPECT_EQ((*set)->size(), 0u);
}

TEST(DigestSet, AFreshSetForgetsAnEarlierRunsFileAndAKeptOneRemembersIt) {
  const std::string path = vmb::testing::PerTestDir() + "/index.db";
  {
    auto set = DigestSet::Open(path);
    ASSERT_THAT(set.status(), IsOk());
    ASSERT_THAT((*set)->Insert(Digests(0, 100)), IsOkAndHolds(100u));
  }
  {
    DigestSet::Options keep;
    keep.fresh = false;
    auto set = DigestSet::Open(path, keep);
    ASSERT_THAT(set.status(), IsOk());
    EXPECT_EQ((*set)->size(), 100u);
    EXPECT_THAT((*set)->Contains(Digest(42)), IsOkAndHolds(true));
  }
  auto set = DigestSet::Open(path);
  ASSERT_THAT(set.status(), IsOk());
  EXPECT_EQ((*set)->size(), 0u);
  EXPECT_THAT((*set)->Contains(Digest(42)), IsOkAndHolds(false));
}

TEST(DigestSet, AFolderThatDoesNotExistIsNamed) {
  const std::string path = vmb::testing::PerTestDir() + "/missing/index.db";
  EXPECT_THAT(DigestSet::Open(path).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot open the chunk index " + path)));
}

// Lookups from several threads while others insert (the chunker's workers ask; its batches insert).
TEST(DigestSet, ManyThreadsAtOnce) {
  auto set = DigestSet::Open("");
  ASSERT_THAT(set.status(), IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b) {
        const int from = (t * 20 + b) * 50;
        EXPECT_THAT((*set)->Insert(Digests(from, from + 50)), IsOkAndHolds(50u));
        for (int i = from; i < from + 50; i += 7) EXPECT_THAT((*set)->Contains(Digest(i)), IsOkAndHolds(true));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*set)->size(), 4u * 20 * 50);
}

// Ten times more digests than its 1 MiB page cache holds: every one is still found, none is found twice.
TEST(DigestSet, FarMoreThanItsCacheHolds) {
  const std::string path = vmb::testing::PerTestDir() + "/index.db";
  DigestSet::Options small;
  small.cache_bytes = 1u << 20;
  auto set = DigestSet::Open(path, small);
  ASSERT_THAT(set.status(), IsOk());
  for (int b = 0; b < 50; ++b) ASSERT_THAT((*set)->Insert(Digests(b * 4000, (b + 1) * 4000)), IsOkAndHolds(4000u));
  EXPECT_THAT((*set)->Insert(Digests(0, 200000)), IsOkAndHolds(0u));
  for (int i = 0; i < 200000; i += 997) EXPECT_THAT((*set)->Contains(Digest(i)), IsOkAndHolds(true));
  EXPECT_THAT((*set)->Contains(Digest(200001)), IsOkAndHolds(false));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 200000 * 32) << "the digests are on disk";
}

}  // namespace
}  // namespace vmb::index
