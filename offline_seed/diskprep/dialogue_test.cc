// The Prompter's questions: re-asking with the reason, numbered choices, the one confirmation rule, the end of
// input; through the scripted prompter and through the terminal one over in-memory streams.
#include "offline_seed/diskprep/dialogue.h"

#include <cstdio>
#include <cstdlib>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/scripted_prompter.h"

namespace vmb::offline {
namespace {

using testing::ScriptedPrompter;
using ::vmb::testing::StatusIs;

TEST(Dialogue, TheConfirmationRuleIsYesInAnyCase) {
  const struct {
    const char* answer;
    bool yes;
  } kCases[] = {{"yes", true}, {"YES", true}, {"Yes", true},   {"  yEs \t", true}, {"y", false},
                {"no", false}, {"", false},   {"yes!", false}, {"Ja", false}};
  for (const auto& c : kCases) {
    EXPECT_EQ(IsYes(c.answer), c.yes) << c.answer;
    ScriptedPrompter p({c.answer});
    absl::StatusOr<bool> confirmed = p.Confirm("Format it?");
    ASSERT_TRUE(confirmed.ok());
    EXPECT_EQ(*confirmed, c.yes) << c.answer;
    EXPECT_EQ(p.prompts(), std::vector<std::string>{"Format it? [yes/no]: "});
  }
}

TEST(Dialogue, AWrongAnswerIsReaskedSayingWhy) {
  ScriptedPrompter p({"ab", "  abcde  "});
  absl::StatusOr<std::string> answer =
      p.Ask("Code: ", [](const std::string& a) { return a.size() < 5 ? "too short: 5 letters" : ""; });
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer, "abcde");
  EXPECT_EQ(p.transcript(), "Code: ab\n  too short: 5 letters\nCode:   abcde  \n");
}

TEST(Dialogue, AChoiceIsANumberFromTheList) {
  ScriptedPrompter p({"0", "three", "2"});
  absl::StatusOr<size_t> i = p.Choose("Which job?", {"job-a", "job-b"});
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(*i, 1u);
  EXPECT_EQ(p.transcript(),
            "  1. job-a\n  2. job-b\nWhich job? [1-2]: 0\n  \"0\" is not on the list: enter a number from 1 to 2\n"
            "Which job? [1-2]: three\n  \"three\" is not on the list: enter a number from 1 to 2\n"
            "Which job? [1-2]: 2\n");
}

TEST(Dialogue, TheEndOfInputStops) {
  ScriptedPrompter p({"x"});
  EXPECT_THAT(p.Ask("Code: ", [](const std::string&) { return "no"; }),
              StatusIs(absl::StatusCode::kCancelled, "no answer (end of input): stopped"));
}

TEST(Dialogue, TheTerminalReadsLinesAndWritesPrompts) {
  std::string typed = "first\nYes\nlast without a line end";
  std::FILE* in = fmemopen(typed.data(), typed.size(), "r");
  char* shown = nullptr;
  size_t shown_size = 0;
  std::FILE* out = open_memstream(&shown, &shown_size);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);
  {
    TerminalPrompter t(in, out);
    t.Say("hello");
    EXPECT_EQ(*t.ReadLine("A: "), "first");
    EXPECT_TRUE(*t.Confirm("Go?"));
    EXPECT_EQ(*t.ReadLine("B: "), "last without a line end");
    EXPECT_THAT(t.ReadLine("C: "), StatusIs(absl::StatusCode::kCancelled));
  }
  std::fclose(out);
  std::fclose(in);
  EXPECT_EQ(std::string(shown, shown_size), "hello\nA: Go? [yes/no]: B: C: \n");
  std::free(shown);
}

}  // namespace
}  // namespace vmb::offline
