// diskprep's command line (AzureOfflineBackupDiskPrep s: / u:), as a function so that the drives it works on can be
// chosen by its caller: the production binary (main.cc) uses this computer's drives (LinuxDrives); a test build adds
// a flag for a simulated drive bay (simulators/sata:diskprep, `--bay DIR`).
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_CLI_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_CLI_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/drives/drive_source.h"

namespace vmb::offline {

// A flag that chooses another drive source, e.g. {"--bay", "--bay DIR  the drive bay ...", open}.
struct DriveSourceFlag {
  std::string flag;
  std::string help;  // its line in --help
  std::function<absl::StatusOr<std::unique_ptr<DriveEnumerator>>(const std::string& value)> open;
};

// Runs diskprep with `argv`; returns the exit status (0 done, 1 failed, 2 bad usage).
int RunDiskPrep(int argc, char** argv, const std::vector<DriveSourceFlag>& sources = {});

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_CLI_H_
