#include "offline_seed/agent/console.h"

#include <cstdio>
#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;

// A console writing into memory.
class Captured {
 public:
  Captured() {
    console_.out = ::open_memstream(&out_, &out_size_);
    console_.err = ::open_memstream(&err_, &err_size_);
  }
  ~Captured() {
    std::fclose(console_.out);
    std::fclose(console_.err);
    std::free(out_);
    std::free(err_);
  }
  const Console& console() const { return console_; }
  std::string err() {
    std::fflush(console_.err);
    return std::string(err_, err_size_);
  }

 private:
  Console console_;
  char* out_ = nullptr;
  char* err_ = nullptr;
  size_t out_size_ = 0, err_size_ = 0;
};

proto::Problem P(const std::string& kind, const std::string& path) {
  proto::Problem p;
  p.set_kind(kind);
  p.set_path(path);
  p.set_detail("why");
  return p;
}

TEST(ReportProblems, ExitStatusThreeOnlyWhenAnEntryCouldNotBeRead) {
  struct Case {
    std::vector<proto::Problem> problems;
    int exit;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{}, 0, ""},
      {{P("vanished", "/a"), P("changed", "/b"), P("changed", "/c")}, 0, "not kept as it was: 2 changed 1 vanished\n"},
      {{P("unreadable", "/secret")}, 3, "the backup is incomplete"},
  };
  for (const Case& c : cases) {
    Captured io;
    google::protobuf::RepeatedPtrField<proto::Problem> problems(c.problems.begin(), c.problems.end());
    EXPECT_EQ(ReportProblems(io.console(), problems), c.exit) << c.says;
    EXPECT_THAT(io.err(), HasSubstr(c.says));
  }
  Captured io;
  google::protobuf::RepeatedPtrField<proto::Problem> many;
  for (int i = 0; i < 1005; ++i) *many.Add() = P("skipped", "/s");
  EXPECT_EQ(ReportProblems(io.console(), many), 0);
  EXPECT_THAT(io.err(), HasSubstr("  ... and 5 more (all of them are in --json)\n"));
}

TEST(ReportRestore, SaysWhatWasNotPutBack) {
  Captured io;
  RestoreReport r;
  r.not_restored = {"out/0/dev: the device node (only root can create one)"};
  ReportRestore(io.console(), r);
  EXPECT_EQ(io.err(),
            "owners were not restored (only root can set them): every entry belongs to the restoring user\n"
            "not restored: out/0/dev: the device node (only root can create one)\n");
}

TEST(Usage, ExitStatusesAndPointers) {
  Captured io;
  EXPECT_EQ(Usage(io.console(), "no command given"), 2);
  EXPECT_EQ(Fail(io.console(), absl::NotFoundError("gone")), 1);
  EXPECT_EQ(io.err(), "seedagent: no command given\n(run `seedagent --help`)\nseedagent: gone\n");
}

// Not on a terminal, progress comes as lines; the end of a phase is always shown.
TEST(ProgressPrinter, LinesWhenNotATerminal) {
  Captured io;
  auto printer = ProgressPrinter(io.console());
  printer("copy", 0, 2'000'000'000);
  printer("copy", 1, 2'000'000'000);  // within 500 ms of the last line: not shown
  printer("copy", 2'000'000'000, 2'000'000'000);
  const std::string err = io.err();
  EXPECT_THAT(err, HasSubstr("copy           0.00%  0.00 / 2.00 GB"));
  EXPECT_THAT(err, HasSubstr("copy         100.00%  2.00 / 2.00 GB"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2);
}

}  // namespace
}  // namespace vmb::offline
