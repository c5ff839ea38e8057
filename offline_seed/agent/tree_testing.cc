#include "offline_seed/agent/tree_testing.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/file/file_util.h"
#include "gtest/gtest.h"

namespace vmb::offline::testing {
namespace {

std::vector<std::string> Names(const std::string& dir) {
  return file::ListDir(dir).value_or(std::vector<std::string>{});
}

}  // namespace

int ExpectSameTree(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::lstat(a.c_str(), &sa) != 0) {
    ADD_FAILURE() << "missing " << a;
    return 0;
  }
  if (::lstat(b.c_str(), &sb) != 0) {
    ADD_FAILURE() << "missing " << b;
    return 0;
  }
  EXPECT_EQ(sa.st_mode, sb.st_mode) << b;
  int n = 1;
  if (S_ISREG(sa.st_mode)) {
    EXPECT_TRUE(*file::ReadFile(a) == *file::ReadFile(b)) << "content differs: " << b;
  }
  if (S_ISLNK(sa.st_mode)) {
    char ta[4096] = {0}, tb[4096] = {0};
    EXPECT_EQ(std::string(ta, ::readlink(a.c_str(), ta, sizeof(ta))),
              std::string(tb, ::readlink(b.c_str(), tb, sizeof(tb))));
  } else {
    EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) << b;
    EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) << b;
  }
  if (S_ISDIR(sa.st_mode)) {
    std::vector<std::string> na = Names(a), nb = Names(b);
    EXPECT_EQ(na, nb) << "entries differ in " << b;
    for (const std::string& name : na) {
      if (std::find(nb.begin(), nb.end(), name) != nb.end()) n += ExpectSameTree(a + "/" + name, b + "/" + name);
    }
  }
  return n;
}

}  // namespace vmb::offline::testing
