// Where a test writes its files: Bazel's per-test $TEST_TMPDIR (cleaned by Bazel), or the system's temporary folder
// when a test binary is run by hand.
#ifndef VMBACKUP_COMMON_TESTING_TEMP_DIR_H_
#define VMBACKUP_COMMON_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace vmb::testing {

// $TEST_TMPDIR, else $TMPDIR, else /tmp.
inline std::string TempDir() {
  for (const char* var : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "/tmp";
}

// TempDir()/name.
inline std::string TempPath(const std::string& name) { return TempDir() + "/" + name; }

// A fresh folder for the running test: TempDir()/<Suite>.<Test><suffix>, emptied and created, so a test (or a
// parameterized instance) never sees another's files. Outside a test it is TempDir()/notest<suffix>.
inline std::string PerTestDir(const std::string& suffix = "") {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info == nullptr ? "notest" : std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/') c = '_';  // parameterized names ("Suite/Test/0")
  }
  const std::string dir = TempPath(name + suffix);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  return dir;
}

}  // namespace vmb::testing

#endif  // VMBACKUP_COMMON_TESTING_TEMP_DIR_H_
