// Which files an incremental backup trusts without reading: every field that could betray a change is compared.
#include "offline_seed/vault/unchanged_files.h"

#include <functional>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

using ::vmb::testing::IsOk;

offline::proto::Entry File(const std::string& path) {
  offline::proto::Entry e;
  e.set_path(path);
  e.set_type("file");
  e.set_size(100);
  e.set_mode(0640);
  e.set_mtimesec(1700000000);
  e.set_mtimensec(5);
  e.set_ctimens(1700000000000000005);
  e.set_inode(42);
  e.add_chunks("abc");
  return e;
}

TEST(UnchangedFiles, TheSameFileIsTrustedAnyChangeIsNot) {
  auto unchanged = UnchangedFiles::Open();
  ASSERT_THAT(unchanged.status(), IsOk());
  offline::proto::Entry previous = File("0/a");
  previous.add_extents()->set_length(100);
  ASSERT_THAT((*unchanged)->Add({previous}), IsOk());
  offline::proto::Entry same = File("0/a");
  same.clear_chunks();
  ASSERT_TRUE((*unchanged)->Fill(&same));
  ASSERT_EQ(same.chunks_size(), 1);
  EXPECT_EQ(same.chunks(0), "abc");  // its chunks and extents come from the previous point
  ASSERT_EQ(same.extents_size(), 1);
  EXPECT_EQ(same.extents(0).length(), 100u);
  EXPECT_EQ(same.path(), "0/a");

  const std::vector<std::pair<const char*, std::function<void(offline::proto::Entry&)>>> changes = {
      {"size", [](offline::proto::Entry& e) { e.set_size(101); }},
      {"mtime seconds", [](offline::proto::Entry& e) { e.set_mtimesec(1700000001); }},
      {"mtime nanoseconds", [](offline::proto::Entry& e) { e.set_mtimensec(6); }},
      {"ctime (a rewrite that put the old mtime back)", [](offline::proto::Entry& e) { e.set_ctimens(1); }},
      {"inode (replaced by another file)", [](offline::proto::Entry& e) { e.set_inode(43); }},
      {"mode", [](offline::proto::Entry& e) { e.set_mode(0600); }},
      {"path (a new file)", [](offline::proto::Entry& e) { e.set_path("0/b"); }},
  };
  for (const auto& [what, change] : changes) {
    offline::proto::Entry e = File("0/a");
    change(e);
    e.clear_chunks();
    EXPECT_FALSE((*unchanged)->Fill(&e)) << what;
    EXPECT_EQ(e.chunks_size(), 0) << what;
  }
}

TEST(UnchangedFiles, EntriesWithoutInodeOrCtimeAreReadAgain) {
  offline::proto::Entry no_inode = File("0/a");
  no_inode.set_inode(0);
  offline::proto::Entry no_ctime = File("0/b");
  no_ctime.set_ctimens(0);
  offline::proto::Entry dir = File("0/c");
  dir.set_type("dir");
  auto unchanged = UnchangedFiles::Open();
  ASSERT_THAT(unchanged.status(), IsOk());
  ASSERT_THAT((*unchanged)->Add({no_inode, no_ctime, dir}), IsOk());
  EXPECT_FALSE((*unchanged)->Fill(&no_inode));
  EXPECT_FALSE((*unchanged)->Fill(&no_ctime));
  EXPECT_FALSE((*unchanged)->Fill(&dir));
}

}  // namespace
}  // namespace vmb::vault
