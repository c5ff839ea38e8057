// The backup service's commands over a state folder: protect a VM, run a backup job (the extension as a real
// subprocess), list the extension like `az vm extension list -o table`, restore a recovery point to VHD files.
#ifndef VMBACKUP_SIMULATORS_BACKUP_SERVICE_SERVICE_H_
#define VMBACKUP_SIMULATORS_BACKUP_SERVICE_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "simulators/backup_service/state.pb.h"

namespace vmb::sim {

struct ServiceOptions {
  std::string state_dir;
  std::string account_key;  // Azurite's development key when empty
  http::HttpTransport* transport = nullptr;
  // Where the caller says the VM is (az's --resource-group and --vault-name); "" = not said. enable-for-vm keeps
  // them with the VM; every later command that names them must name the same (kNotFound otherwise, as Azure).
  std::string resource_group;
  std::string vault_name;
};

// Protects a VM: its certificate and disks (page blobs with data) exist afterwards. Re-running with the same name
// is an error naming the VM (kAlreadyExists).
absl::StatusOr<proto::ProtectedVm> EnableForVm(const ServiceOptions& o, const std::string& vm,
                                               const std::string& policy, const std::string& blob_endpoint, int disks,
                                               uint64_t disk_size, const std::string& locale);

struct BackupOptions {
  std::string vmsnapshot;  // path of the extension binary
  std::string freeze_provider = "none";
  int timeout_seconds = 300;            // the agent's limit; the child is killed past it
  std::vector<std::string> extra_args;  // more `vmsnapshot enable` options (e.g. fsfreeze settings)
};

// One backup job: installs the extension on the first backup, prepares settings, runs `vmsnapshot enable` as a
// subprocess with ConfigSequenceNumber set, reads the status blob, records the recovery point (also on failure,
// with the code).
absl::StatusOr<proto::RecoveryPoint> RunBackup(const ServiceOptions& o, const std::string& vm, const BackupOptions& b);

// DefaultPolicy: one backup a day at 22:30 UTC. The latest scheduled time at or before `now`.
absl::Time LastScheduledSlot(absl::Time now);

struct ScheduleResult {
  bool ran = false;  // a backup was due and ran
  proto::RecoveryPoint recovery_point;
  absl::Time next_due;
};

// Runs the backup the policy says is due at `now` (none if the latest slot is already covered by a recovery
// point). Meant for cron or a systemd timer: `backupsvc run-due --vm NAME ...`.
absl::StatusOr<ScheduleResult> RunDueBackup(const ServiceOptions& o, const std::string& vm, const BackupOptions& b,
                                            absl::Time now);

// Lines of the `extension list` table.
absl::StatusOr<std::string> ExtensionList(const ServiceOptions& o, const std::string& vm);
// The same as `az vm extension list -o json` shapes it: an array of extension objects.
absl::StatusOr<std::string> ExtensionListJson(const ServiceOptions& o, const std::string& vm);

absl::StatusOr<std::vector<proto::RecoveryPoint>> ListRecoveryPoints(const ServiceOptions& o, const std::string& vm);

// Writes each disk of the recovery point as a fixed VHD into `output_dir`; returns the files written.
absl::StatusOr<std::vector<std::string>> Restore(const ServiceOptions& o, const std::string& vm,
                                                 const std::string& recovery_point, const std::string& output_dir);

}  // namespace vmb::sim

#endif  // VMBACKUP_SIMULATORS_BACKUP_SERVICE_SERVICE_H_
