// A stand-in for the backup service's side of one VM backup job, enough to drive the extension for real:
//   Prepare: the VM's certificate in the agent's certificate folder, the disks as page blobs with data, a handler
//            folder (HandlerEnvironment.json), and the next <N>.settings with protected settings CMS-encrypted to
//            the VM's certificate, fresh SAS URIs for disks, status and logs blobs.
//   Collect: read the status blob the extension wrote, check every snapshot it names exists, and record the
//            recovery point.
#ifndef VMBACKUP_SIMULATORS_BACKUP_SERVICE_BACKUP_SERVICE_H_
#define VMBACKUP_SIMULATORS_BACKUP_SERVICE_BACKUP_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"

namespace vmb::sim {

struct BackupJobSpec {
  std::string vm_dir;         // handler folder root: HandlerEnvironment.json, config/, status/, log/, certs/
  std::string blob_endpoint;  // account endpoint, e.g. http://127.0.0.1:10000/devstoreaccount1
  std::string account_key;    // base64; Azurite's development key when empty
  int disks = 2;
  uint64_t disk_size = 4u << 20;
  std::string locale = "en-us";
  http::HttpTransport* transport = nullptr;
};

struct PreparedJob {
  int seq = 0;
  std::string task_id;
  std::string handler_environment;
  std::string cert_dir;
  std::string status_blob;  // redacted URI, for display
};

absl::StatusOr<PreparedJob> PrepareBackupJob(const BackupJobSpec& spec);

struct RecoveryPoint {
  std::string status;  // success | error | transitioning
  int code = -1;
  std::vector<std::string> snapshot_uris;  // verified to exist
  std::string message;
};

// Reads the status blob of the last prepared job and verifies the snapshots it reports. kDataLoss when the
// status names a snapshot that does not exist.
absl::StatusOr<RecoveryPoint> CollectBackupJob(const BackupJobSpec& spec);

}  // namespace vmb::sim

#endif  // VMBACKUP_SIMULATORS_BACKUP_SERVICE_BACKUP_SERVICE_H_
