// The four ways the scale benchmark backs a tree up: our `seedagent initiate` and its peers restic, borg and
// `tar | zstd`, each run as its own process with a fresh output, plus their restores and repeat (incremental) runs.
// Secrets never reach a command line or the output: restic reads its password from a 0600 file named in its
// environment; borg runs unencrypted (its fastest setting; restic cannot run without encryption).
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_SCALE_TOOLS_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_SCALE_TOOLS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "offline_seed/bench/scale_run.h"

namespace vmb::offline::bench {

enum class Tool { kOurs, kRestic, kBorg, kTarZstd };
inline constexpr Tool kAllTools[] = {Tool::kOurs, Tool::kRestic, Tool::kBorg, Tool::kTarZstd};
const char* ToolName(Tool tool);
// How each tool is run, one line per tool, for the header of the output.
std::string ToolSettings();

struct ToolEnv {
  std::string seedagent;      // path of the seedagent binary
  std::string control_plane;  // the Import/Export simulator initiate checks the job name with
  std::string token;          // its bearer token (a simulator's, not a secret)
  std::string publish;        // .publishsettings for subscription "sub"
  std::string scratch;        // logs, the password file, restic's and borg's caches
  // Ours repeat: `seedagent backup` against the vault on `blob_endpoint` (Azurite's development account), after
  // `seed_vault(staging)` made recovery point 1 there from the staging location, as the vault copy does after the
  // import. Unset: ours repeat is not measured, for the reason in `no_vault`.
  std::string blob_endpoint;
  std::function<absl::Status(const std::string& staging)> seed_vault;
  std::string no_vault;
};

struct Outcome {
  Measured run;
  uint64_t output_bytes = 0;  // allocated on disk (for a repeat run: what the output grew by)
  bool measured = true;       // false: the tool cannot do this here (why: in `note`)
  std::string note;           // why not measured, or how it failed
};

class Tools {
 public:
  // Writes a random restic password to scratch/restic-password (0600).
  explicit Tools(ToolEnv env);

  // Backs `source` up into `out` (made fresh; kept until the caller removes it). `tag` names the job or archive.
  Outcome Backup(Tool tool, const std::string& source, const std::string& out, const std::string& tag);
  // Runs the backup into `out` again with nothing changed (restic and borg reuse their files cache; ours is the
  // incremental backup into the vault, `out` being its staging location).
  Outcome Repeat(Tool tool, const std::string& source, const std::string& out, const std::string& tag);
  // Restores what Backup wrote into `out` to the empty folder `target`.
  Outcome Restore(Tool tool, const std::string& out, const std::string& target);

 private:
  Child Make(Tool tool, std::vector<std::string> argv, const std::string& sync_path) const;
  // Runs the child; the outcome's output is what `out` occupies, its note the log's tail when the child failed.
  Outcome Run(const Child& child, const std::string& out) const;

  ToolEnv env_;
  std::string password_file_;
};

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_SCALE_TOOLS_H_
