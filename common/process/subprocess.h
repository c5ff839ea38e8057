// Runs a child process to completion, feeding stdin and capturing stdout and stderr (no shell involved).
#ifndef VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_
#define VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vmb::process {

struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string stdout_data;
  std::string stderr_data;
};

struct RunOptions {
  std::string stdin_data;
  std::vector<std::string> extra_env;  // "NAME=value", added to (or replacing in) the inherited environment
  std::string cwd;                     // empty: inherit
  int timeout_ms = 0;  // > 0: the child runs in its own process group, killed whole (SIGKILL) when it runs
                       // longer; exit_code 128+9
};

// `argv[0]` is looked up in PATH. kNotFound when it cannot be executed; a nonzero exit is not an error here.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "");
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const RunOptions& options);

}  // namespace vmb::process

#endif  // VMBACKUP_COMMON_PROCESS_SUBPROCESS_H_
