// The `scripts` freeze provider: application-consistent snapshots through the admin's pre- and post-scripts, as
// configured in VMSnapshotScriptPluginConfig.json (the Linux twin's format):
//   {"pluginName", "preScriptLocation", "postScriptLocation", "preScriptParams": [...], "postScriptParams": [...],
//    "preScriptNoOfRetries", "postScriptNoOfRetries", "timeoutInSeconds", "continueBackupOnFailure",
//    "fsFreezeEnabled"}
// Safety checks as the twin makes them: the config is mode 0600 and the scripts 0700, all owned by the user the
// extension runs as (root in production). Scripts run as `sh SCRIPT PARAMS...`; exit 0 is success, 2 a warning,
// anything else a failure; a failed script is really re-run up to its retry count; each run is bounded by
// timeoutInSeconds. With fsFreezeEnabled the file systems are frozen after the pre-script and thawed before the
// post-script.
//
// Codes (the twin's): 300 pre-script failed, 301 post-script failed, 302/303 script not found, 305 config not
// parsable, 306/307 script permissions or owner, 308/309 script timeout, 316 config not found, 317 config
// permissions, 318 config owner. With continueBackupOnFailure a failed pre-script does not stop the backup, but the
// snapshot is then reported as file-system (or crash) consistent, never as application-consistent.
#ifndef VMBACKUP_SNAPSHOT_SCRIPTS_SCRIPTS_PROVIDER_H_
#define VMBACKUP_SNAPSHOT_SCRIPTS_SCRIPTS_PROVIDER_H_

#include <memory>
#include <string>
#include <vector>

#include "snapshot/freeze.h"

namespace vmb::snapshot::scripts {

inline constexpr char kDefaultConfig[] = "/etc/azure/VMSnapshotScriptPluginConfig.json";

struct ScriptConfig {
  std::string plugin_name;
  std::string pre_script;
  std::string post_script;
  std::vector<std::string> pre_params;
  std::vector<std::string> post_params;
  int pre_retries = 0;
  int post_retries = 0;
  int timeout_seconds = 30;
  bool continue_on_failure = false;
  bool fs_freeze_enabled = true;
};

// Reads and checks the config file (codes 305, 316, 317, 318 on errors).
absl::StatusOr<ScriptConfig> LoadScriptConfig(const std::string& path);

class ScriptsProvider : public FreezeProvider {
 public:
  // `fs_freeze` is used when the config enables it (may be null: then fsFreezeEnabled is refused with 121).
  ScriptsProvider(std::string config_path, std::unique_ptr<FreezeProvider> fs_freeze)
      : config_path_(std::move(config_path)), fs_freeze_(std::move(fs_freeze)) {}

  std::string name() const override { return "scripts"; }
  Consistency consistency() const override;
  absl::Status Freeze(absl::Duration timeout) override;
  absl::Status Thaw() override;
  // What happened that the status should mention (a pre-script failure the backup continued past, ...).
  std::string notes() const override { return notes_; }

 private:
  ScriptConfig config_;
  std::string config_path_;
  std::unique_ptr<FreezeProvider> fs_freeze_;
  bool pre_ok_ = false;
  bool fs_frozen_ = false;
  bool armed_ = false;
  std::string notes_;
};

}  // namespace vmb::snapshot::scripts

#endif  // VMBACKUP_SNAPSHOT_SCRIPTS_SCRIPTS_PROVIDER_H_
