// The on-disk table: values by key (binary keys and values, empty values), the first of a key kept, a call refused
// whole, a fresh or kept file, and a size well past its page cache.
#include "common/index/table.h"

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::index {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using ::vmb::testing::IsOk;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

TEST(Table, KeepsTheFirstValueOfEachKey) {
  auto t = Table::Open(vmb::testing::PerTestDir() + "/t.db", {});
  ASSERT_THAT(t.status(), IsOk());
  const std::string binary_key("a\0b", 3), binary_value("\0\xff\x01", 3);
  EXPECT_THAT((*t)->Put({{"one", "1"}, {binary_key, binary_value}, {"empty", ""}, {"one", "again"}}), IsOkAndHolds(3u));
  EXPECT_THAT((*t)->Put({{"one", "later"}, {"two", "2"}}), IsOkAndHolds(1u)) << "one keeps its first value";
  EXPECT_THAT((*t)->Get("one"), IsOkAndHolds(Optional(std::string("1"))));
  EXPECT_THAT((*t)->Get("two"), IsOkAndHolds(Optional(std::string("2"))));
  EXPECT_THAT((*t)->Get(binary_key), IsOkAndHolds(Optional(binary_value)));
  EXPECT_THAT((*t)->Get("empty"), IsOkAndHolds(Optional(std::string())));
  EXPECT_THAT((*t)->Get("a"), IsOkAndHolds(std::nullopt)) << "a prefix of a key is not the key";
  EXPECT_THAT((*t)->Get("three"), IsOkAndHolds(std::nullopt));
  EXPECT_EQ((*t)->size(), 4u);

  // The first key of a range: what lies beneath a path ("0/f/" up to "0/f0": '/' sorts just before '0').
  ASSERT_THAT((*t)->Put({{"0/f", "file"}, {"0/f.txt", ""}, {"0/f/g", ""}, {"0/f/a", ""}, {"0/g", ""}}),
              IsOkAndHolds(5u));
  EXPECT_THAT((*t)->FirstKeyIn("0/f/", "0/f0"), IsOkAndHolds(Optional(std::string("0/f/a"))));
  EXPECT_THAT((*t)->FirstKeyIn("0/g/", "0/g0"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT((*t)->FirstKeyIn("0/f.", "0/f/"), IsOkAndHolds(Optional(std::string("0/f.txt"))));
}

TEST(Table, AFreshTableForgetsAnEarlierRunsFileAndAKeptOneRemembersIt) {
  const std::string path = vmb::testing::PerTestDir() + "/t.db";
  {
    auto t = Table::Open(path, {});
    ASSERT_THAT(t.status(), IsOk());
    ASSERT_THAT((*t)->Put({{"k", "v"}}), IsOkAndHolds(1u));
  }
  Table::Options keep;
  keep.fresh = false;
  {
    auto t = Table::Open(path, keep);
    ASSERT_THAT(t.status(), IsOk());
    EXPECT_EQ((*t)->size(), 1u);
    EXPECT_THAT((*t)->Get("k"), IsOkAndHolds(Optional(std::string("v"))));
  }
  auto t = Table::Open(path, {});
  ASSERT_THAT(t.status(), IsOk());
  EXPECT_EQ((*t)->size(), 0u);
  EXPECT_THAT((*t)->Get("k"), IsOkAndHolds(std::nullopt));
}

TEST(Table, AFolderThatDoesNotExistIsNamed) {
  const std::string path = vmb::testing::PerTestDir() + "/missing/t.db";
  Table::Options o;
  o.what = "path index";
  EXPECT_THAT(Table::Open(path, o).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot open the path index " + path)));
}

TEST(Table, ATemporaryTableHoldsFarMoreThanItsPageCache) {
  Table::Options small;
  small.cache_bytes = 1u << 20;
  auto t = Table::Open("", small);
  ASSERT_THAT(t.status(), IsOk());
  const std::string value(100, 'v');
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Table::Row> rows;
    for (int i = 0; i < 5000; ++i) rows.emplace_back(absl::StrCat("key/", batch, "/", i), absl::StrCat(value, i));
    ASSERT_THAT((*t)->Put(std::move(rows)), IsOkAndHolds(5000u));
  }
  EXPECT_EQ((*t)->size(), 100000u);
  EXPECT_THAT((*t)->Get("key/13/4321"), IsOkAndHolds(Optional(absl::StrCat(value, 4321))));
  EXPECT_THAT((*t)->Get("key/20/0"), IsOkAndHolds(std::nullopt));
}

}  // namespace
}  // namespace vmb::index
