// Runs a child process to completion, feeding stdin and capturing stdout and stderr (no shell involved).
#ifndef VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_
#define VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vmb::process {

struct CommandResult {
  int exit_code = -1;    // exit status, or 128 + signal number when killed by a signal
  std::string stdout_data;
  std::string stderr_data;
};

// `argv[0]` is looked up in PATH. kNotFound when it cannot be executed; a nonzero exit is not an error here.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "");

}  // namespace vmb::process

#endif  // VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_
