// The vmsnapshot command line read into one value: the extension's config file first (/etc/azure/vmsnapshot.json
// or --config), then the options, which win over it. Reading makes no decision beyond that; main.cc runs the command.
#ifndef VMBACKUP_SNAPSHOT_COMMAND_LINE_H_
#define VMBACKUP_SNAPSHOT_COMMAND_LINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snapshot/enable_job.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"
#include "snapshot/proto/handler.pb.h"

namespace vmb::snapshot {

inline constexpr char kDefaultConfigPath[] = "/etc/azure/vmsnapshot.json";
inline constexpr char kDefaultThawCheckFile[] = "/etc/cron.d/vmsnapshot-thaw-check";

struct CommandLine {
  bool show_help = false;               // --help, -h or help: print the usage and exit 0 (nothing else was read)
  bool show_version = false;            // --version: likewise
  std::string command;                  // the first word that is not an option ("" when none)
  std::vector<std::string> positional;  // the words after it (replay's fixtures)

  EnableOptions options;  // transport and freeze are left for main to fill in
  fsfreeze::FsFreezeOptions fsfreeze;
  std::string freeze_name = "none";
  std::string script_config, vss_socket;
  std::string thaw_check_file = kDefaultThawCheckFile;
  std::string endpoint, account_key_file, work_dir;  // replay
  int64_t hold_ms = 1000, budget_ms = 60000;         // freeze-check
};

// The config file named by the last `--config PATH` in `args`, else kDefaultConfigPath. A missing default file is an
// empty config; a missing --config file, or either one not JSON of ExtensionConfig, is kInvalidArgument whose message
// is the usage problem to print.
absl::StatusOr<proto::ExtensionConfig> LoadExtensionConfig(const std::vector<std::string>& args);

// The defaults as `config` changes them. `extension_path` is $AZURE_GUEST_AGENT_EXTENSION_PATH (nullptr when unset):
// the agent's lib dir, where it keeps <THUMBPRINT>.crt/.prv, is its parent; config's certDir wins over it.
CommandLine FromConfig(const proto::ExtensionConfig& config, const char* extension_path);

// Reads the options of `args` (all of argv after the program name) over `defaults`, left to right. Stops at --help or
// --version. kInvalidArgument whose message is the usage problem to print (exit 2) on a bad option or value.
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args, CommandLine defaults);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_COMMAND_LINE_H_
