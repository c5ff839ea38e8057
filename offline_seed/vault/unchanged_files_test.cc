// Which files an incremental backup trusts without reading: every field that could betray a change is compared.
#include "offline_seed/vault/unchanged_files.h"

#include <functional>

#include "gtest/gtest.h"

namespace vmb::vault {
namespace {

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
  proto::RecoveryPoint previous;
  *previous.add_entries() = File("0/a");
  UnchangedFiles unchanged(previous);
  const offline::proto::Entry* same = unchanged.Find(File("0/a"));
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->chunks(0), "abc");  // its chunks come from the previous point

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
    EXPECT_EQ(unchanged.Find(e), nullptr) << what;
  }
}

TEST(UnchangedFiles, EntriesWithoutInodeOrCtimeAreReadAgain) {
  proto::RecoveryPoint previous;
  offline::proto::Entry no_inode = File("0/a");
  no_inode.set_inode(0);
  offline::proto::Entry no_ctime = File("0/b");
  no_ctime.set_ctimens(0);
  offline::proto::Entry dir = File("0/c");
  dir.set_type("dir");
  *previous.add_entries() = no_inode;
  *previous.add_entries() = no_ctime;
  *previous.add_entries() = dir;
  UnchangedFiles unchanged(previous);
  EXPECT_EQ(unchanged.Find(no_inode), nullptr);
  EXPECT_EQ(unchanged.Find(no_ctime), nullptr);
  EXPECT_EQ(unchanged.Find(dir), nullptr);
}

}  // namespace
}  // namespace vmb::vault
