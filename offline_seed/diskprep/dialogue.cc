#include "offline_seed/diskprep/dialogue.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vmb::offline {

bool IsYes(absl::string_view answer) { return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(answer), "yes"); }

absl::StatusOr<std::string> Prompter::Ask(const std::string& question, const AnswerCheck& check) {
  for (;;) {
    absl::StatusOr<std::string> line = ReadLine(question);
    if (!line.ok()) return line.status();
    std::string answer(absl::StripAsciiWhitespace(*line));
    std::string why = check ? check(answer) : "";
    if (why.empty()) return answer;
    Say("  " + why);
  }
}

absl::StatusOr<size_t> Prompter::Choose(const std::string& question, const std::vector<std::string>& items) {
  for (size_t i = 0; i < items.size(); ++i) Say(absl::StrCat("  ", i + 1, ". ", items[i]));
  const std::string range = absl::StrCat("enter a number from 1 to ", items.size());
  size_t chosen = 0;
  absl::StatusOr<std::string> answer =
      Ask(absl::StrCat(question, " [1-", items.size(), "]: "), [&](const std::string& a) -> std::string {
        if (!absl::SimpleAtoi(a, &chosen) || chosen < 1 || chosen > items.size()) {
          return absl::StrCat("\"", a, "\" is not on the list: ", range);
        }
        return "";
      });
  if (!answer.ok()) return answer.status();
  return chosen - 1;
}

absl::StatusOr<bool> Prompter::Confirm(const std::string& question) {
  absl::StatusOr<std::string> answer = Ask(question + " [yes/no]: ", nullptr);
  if (!answer.ok()) return answer.status();
  return IsYes(*answer);
}

void TerminalPrompter::Say(const std::string& text) {
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

absl::StatusOr<std::string> TerminalPrompter::ReadLine(const std::string& prompt) {
  std::fputs(prompt.c_str(), out_);
  std::fflush(out_);
  std::string line;
  for (int c; (c = std::fgetc(in_)) != EOF;) {
    if (c == '\n') return line;
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty()) return line;
  std::fputs("\n", out_);
  return absl::CancelledError("no answer (end of input): stopped");
}

bool StdinIsTerminal() { return ::isatty(0) == 1; }

}  // namespace vmb::offline
