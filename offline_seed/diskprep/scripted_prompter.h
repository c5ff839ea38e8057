// A Prompter for tests: answers from a script, in order, and a transcript of everything asked and said, as the
// terminal would show it (each answer after its prompt, then a line end).
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_SCRIPTED_PROMPTER_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_SCRIPTED_PROMPTER_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/diskprep/dialogue.h"

namespace vmb::offline::testing {

class ScriptedPrompter : public Prompter {
 public:
  explicit ScriptedPrompter(std::vector<std::string> answers) : answers_(answers.begin(), answers.end()) {}

  void Say(const std::string& text) override { transcript_ += text + "\n"; }
  // The next scripted answer; kCancelled when the script is used up (as at the end of a terminal's input).
  absl::StatusOr<std::string> ReadLine(const std::string& prompt) override {
    transcript_ += prompt;
    prompts_.push_back(prompt);
    if (answers_.empty()) {
      transcript_ += "\n";
      return absl::CancelledError("no answer (end of input): stopped");
    }
    std::string answer = answers_.front();
    answers_.pop_front();
    transcript_ += answer + "\n";
    return answer;
  }

  const std::string& transcript() const { return transcript_; }
  const std::vector<std::string>& prompts() const { return prompts_; }
  size_t unused() const { return answers_.size(); }

 private:
  std::deque<std::string> answers_;
  std::string transcript_;
  std::vector<std::string> prompts_;
};

}  // namespace vmb::offline::testing

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_SCRIPTED_PROMPTER_H_
