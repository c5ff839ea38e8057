// The dialogue seam: how diskprep asks the admin (seed 004's AzureOfflineBackupDiskPrep asks for the import job, the
// drive, the formatting, another drive, the shipping details). Every question goes through a Prompter: the terminal
// one (stdin/stdout, used only when stdin is a terminal and no flag already answers) or a scripted one in tests
// (scripted_prompter.h).
//
// One rule for every confirmation: the answer "yes", in any case, around spaces (IsYes); anything else is no.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_DIALOGUE_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_DIALOGUE_H_

#include <cstddef>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::offline {

// Why an answer is refused: "" accepts it, anything else is said to the admin and the question is asked again.
using AnswerCheck = std::function<std::string(const std::string& answer)>;

// The confirmation rule: "yes" in any case, surrounding spaces ignored.
bool IsYes(absl::string_view answer);

// Asks and reads answers. Not thread-safe: one dialogue at a time.
class Prompter {
 public:
  virtual ~Prompter() = default;

  // Shows one line of text.
  virtual void Say(const std::string& text) = 0;
  // Shows `prompt` (no line end) and reads one line, without its line end. kCancelled at the end of input (the
  // admin pressed Ctrl-D, or the terminal went away): the caller stops without changing anything more.
  virtual absl::StatusOr<std::string> ReadLine(const std::string& prompt) = 0;

  // Asks `question` until an answer (surrounding spaces removed) passes `check`; each refusal is said ("  <why>")
  // before the question is asked again, so nothing answered before is lost. Returns the accepted answer.
  absl::StatusOr<std::string> Ask(const std::string& question, const AnswerCheck& check);
  // Shows `items` numbered from 1 and asks for a number; returns the chosen item's index.
  absl::StatusOr<size_t> Choose(const std::string& question, const std::vector<std::string>& items);
  // A yes/no question by the one rule (IsYes); "<question> [yes/no]: ".
  absl::StatusOr<bool> Confirm(const std::string& question);
};

// The terminal: prompts to `out`, answers from `in` (stdin/stdout by default).
class TerminalPrompter : public Prompter {
 public:
  explicit TerminalPrompter(std::FILE* in = stdin, std::FILE* out = stdout) : in_(in), out_(out) {}
  void Say(const std::string& text) override;
  absl::StatusOr<std::string> ReadLine(const std::string& prompt) override;

 private:
  std::FILE* in_;
  std::FILE* out_;
};

// Whether the questions can be asked: stdin is a terminal.
bool StdinIsTerminal();

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_DIALOGUE_H_
