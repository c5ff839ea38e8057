#include "offline_seed/agent/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

std::string Tmp(const std::string& n) {
  return vmb::testing::TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name() + n);
}

proto::Entry E(const std::string& path, const std::string& type, const std::string& target = "") {
  proto::Entry e;
  e.set_path(path);
  e.set_type(type);
  e.set_target(target);
  e.set_mode(type == "dir" ? 0755 : 0644);
  return e;
}

// A tampered recovery point cannot write outside the restore target: not by "..", not by an absolute path, not by
// a file beneath a symlink it also lists (in either order). Nothing is written when the catalogue is refused.
TEST(Restore, RefusesEntriesThatWouldEscapeTheTarget) {
  const std::string outside = Tmp("-outside");
  ASSERT_THAT(file::MakeDirs(outside), IsOk());
  auto writer = [](const proto::Entry& e, int fd) { return StoredLayout(e).Write(fd, 0, "pwned", "x"); };
  const std::vector<std::vector<proto::Entry>> attacks = {
      {E("0", "dir"), E("0/../../escaped", "file")},
      {E("/etc/escaped", "file")},
      {E("0", "dir"), E("0/link", "symlink", outside), E("0/link/escaped", "file")},
      {E("0", "dir"), E("0/link/escaped", "file"), E("0/link", "symlink", outside)},
      {E("0", "dir"), E("0/f", "file"), E("0/f", "file")},
      {E("0", "dir"), E("0//x", "file")},
      {E("0", "dir"), E(std::string("0/a\0b", 5), "file")},
      {E("0", "dir"), E("0/x", "device")},
      {E("0", "dir"), E("0/h", "hardlink", "/etc/passwd")},            // a link to anything outside the tree
      {E("0", "dir"), E("0/d", "dir"), E("0/h", "hardlink", "0/d")},   // a link to a folder
      {E("0", "dir"), E("0/h", "hardlink", "0/f"), E("0/f", "file")},  // to a file not restored yet
  };
  for (size_t i = 0; i < attacks.size(); ++i) {
    const std::string target = Tmp(absl::StrFormat("-target%d", i));
    EXPECT_THAT(RestoreTree(attacks[i], target, writer), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tampered")))
        << "attack " << i;
    EXPECT_FALSE(file::ReadFile(outside + "/escaped").ok()) << "attack " << i;
    EXPECT_FALSE(file::ReadFile(target + "/0/link/escaped").ok()) << "attack " << i;
  }
  // The same shapes done right restore: a link to a folder outside is fine as a link (not followed).
  const std::string ok = Tmp("-ok");
  ASSERT_THAT(
      RestoreTree({E("0", "dir"), E("0/d", "dir"), E("0/d/f", "file"), E("0/link", "symlink", outside)}, ok, writer),
      IsOk());
  EXPECT_EQ(*file::ReadFile(ok + "/0/d/f"), "pwned");
  EXPECT_FALSE(file::ReadFile(outside + "/f").ok());
  // A target that already holds something (here a symlink where a restored folder goes) is refused: nothing is
  // written through it.
  const std::string used = Tmp("-used");
  ASSERT_THAT(file::MakeDirs(used), IsOk());
  ASSERT_EQ(::symlink(outside.c_str(), (used + "/0").c_str()), 0);
  EXPECT_THAT(RestoreTree({E("0", "dir"), E("0/f", "file")}, used, writer),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not empty")));
  EXPECT_FALSE(file::ReadFile(outside + "/f").ok());
}

// Each kind of damage is refused with what is wrong, before anything is written.
TEST(ValidateEntries, NamesTheFirstBadEntry) {
  struct Case {
    std::vector<proto::Entry> entries;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{E("0", "dir"), E("0/x", "socket")}, "has the unknown type \"socket\""},
      {{E("0", "dir"), E("0/.", "file")}, "has an empty, \".\" or \"..\" component"},
      {{E("", "file")}, "is not a relative path"},
      {{E("0", "dir"), E("0/l", "symlink", std::string("a\0b", 3))}, "holds a NUL byte"},
      {{E("0", "dir"), E("0", "dir")}, "is listed twice"},
      {{E("0/f/g", "file"), E("0", "dir"), E("0/f", "file")}, "lies beneath a symlink or a file"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ValidateEntries(c.entries), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.says))) << c.says;
  }
  EXPECT_THAT(ValidateEntries({E("0", "dir"), E("0/f", "file"), E("0/h", "hardlink", "0/f")}), IsOk());
}

// Filled restores create every file at its length, all hole, before the filler runs; links come after it.
TEST(RestoreTreeFilled, FilesExistAtTheirLengthWhenFilled) {
  const std::string out = Tmp("-out");
  proto::Entry f = E("0/f", "file");
  f.set_size(1u << 20);
  bool filled = false;
  ASSERT_THAT(RestoreTreeFilled({E("0", "dir"), f, E("0/l", "symlink", "f")}, out,
                                [&](const std::vector<const proto::Entry*>& files) -> absl::Status {
                                  EXPECT_EQ(files.size(), 1u);
                                  struct stat st;
                                  EXPECT_EQ(::stat((out + "/0/f").c_str(), &st), 0);
                                  EXPECT_EQ(st.st_size, 1 << 20);
                                  EXPECT_NE(::lstat((out + "/0/l").c_str(), &st), 0) << "a link before the data";
                                  filled = true;
                                  return absl::OkStatus();
                                }),
              IsOk());
  EXPECT_TRUE(filled);
  EXPECT_EQ(file::ReadFile(out + "/0/f")->size(), 1u << 20);
}

// The first error of a writer stops the restore and is returned.
TEST(RestoreTree, AWriterErrorIsReturned) {
  std::vector<proto::Entry> entries = {E("0", "dir")};
  for (int i = 0; i < 20; ++i) entries.push_back(E(absl::StrFormat("0/f%02d", i), "file"));
  auto writer = [](const proto::Entry& e, int) {
    return e.path() == "0/f07" ? absl::DataLossError("chunk gone") : absl::OkStatus();
  };
  EXPECT_THAT(RestoreTree(entries, Tmp("-out"), writer, 4), StatusIs(absl::StatusCode::kDataLoss, "chunk gone"));
}

// A tree read as a stream (here 10,000 files in 100 folders, so several batches of files and of checked paths):
// every file filled once, the source read once (then the spool), and each folder's time set after everything beneath
// it.
TEST(RestoreTreeFilled, AStreamedTreeOfManyBatches) {
  std::vector<proto::Entry> entries = {E("0", "dir")};
  for (int d = 0; d < 100; ++d) {
    proto::Entry dir = E(absl::StrFormat("0/d%03d", d), "dir");
    dir.set_mtimesec(1000000000 + d);
    entries.push_back(dir);
    for (int f = 0; f < 100; ++f) entries.push_back(E(absl::StrFormat("0/d%03d/f%03d", d, f), "file"));
  }
  entries.push_back(E("0/d007/f000-link", "hardlink", "0/d007/f000"));
  int reads = 0;
  EntrySource source = [&](const EntryEach& each) -> absl::Status {
    ++reads;
    for (const proto::Entry& e : entries) {
      if (absl::Status s = each(e); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  const std::string out = Tmp("-out");
  size_t filled = 0, batches = 0;
  ASSERT_THAT(RestoreTreeFilled(source, out,
                                [&](const std::vector<const proto::Entry*>& files) {
                                  ++batches;
                                  filled += files.size();
                                  return absl::OkStatus();
                                }),
              IsOk());
  EXPECT_EQ(reads, 1) << "read once, then from the spool";
  EXPECT_EQ(filled, 10000u);
  EXPECT_EQ(batches, 3u) << "4,096 files a batch";
  struct stat st;
  ASSERT_EQ(::stat((out + "/0/d042").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1000000042) << "set once its files were created";
  ASSERT_EQ(::stat((out + "/0/d007/f000-link").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
}

// The checks hold across batches: a path listed twice 5,000 entries apart, a file listed after something beneath it.
TEST(ValidateEntries, HoldsAcrossBatches) {
  std::vector<proto::Entry> twice = {E("0", "dir"), E("0/x", "file")};
  for (int f = 0; f < 5000; ++f) twice.push_back(E(absl::StrFormat("0/f%04d", f), "file"));
  twice.push_back(E("0/x", "file"));
  EXPECT_THAT(ValidateEntries(twice), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("\"0/x\" is listed twice")));

  std::vector<proto::Entry> beneath = {E("0", "dir"), E("0/s/escaped", "file")};
  for (int f = 0; f < 5000; ++f) beneath.push_back(E(absl::StrFormat("0/f%04d", f), "file"));
  beneath.push_back(E("0/s", "symlink", "/etc"));
  EXPECT_THAT(ValidateEntries(beneath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("\"0/s/escaped\" lies beneath a symlink or a file")));

  std::vector<proto::Entry> link = {E("0", "dir")};
  for (int f = 0; f < 5000; ++f) link.push_back(E(absl::StrFormat("0/f%04d", f), "file"));
  link.push_back(E("0/h", "hardlink", "0/f0001"));
  link.push_back(E("0/h2", "hardlink", "0/h"));
  EXPECT_THAT(ValidateEntries(link),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("\"0/h2\" is a hard link to no earlier file entry")));
}

}  // namespace
}  // namespace vmb::offline
