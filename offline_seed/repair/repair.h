// Repairing an offline import over the network (what WAImportExport's RepairImport does): after the datacenter has
// processed the package, every range that did not arrive intact is sent again from the staging location with Put
// Page, and only those ranges:
//   - a drive that completed with Corrupted ranges: the ranges its error log (DriveLog XML in `waimportexport`)
//     names;
//   - a drive that could not be read at all (BitLockerKeyInvalid, ManifestCorrupted) or never arrived
//     (NeverReceived): every range diskprep journaled onto that drive.
// Each range's staged bytes are checked against the MD5 recorded for it before they are sent, so a staging location
// that changed since diskprep is refused (kDataLoss) rather than imported. Each range sent is recorded (durably,
// before the next) in the staging location's repair record, and never sent again for that job: the first backup
// after an explicit `seedagent repair`, or a run after an interrupted one, sends only what is still missing.
#ifndef VMBACKUP_OFFLINE_SEED_REPAIR_REPAIR_H_
#define VMBACKUP_OFFLINE_SEED_REPAIR_REPAIR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/http/http_transport.h"

namespace vmb::offline {

// The repair record, in the staging location: one line per range sent ("<job> <blob> <offset> <length> <md5>").
inline constexpr char kRepairRecord[] = "repair.journal";

struct RepairOptions {
  std::string staging;
  std::string control_plane;
  std::string token;
  std::string resource_group = "offlinebackup";
  blob::BlobClient* storage = nullptr;  // authorised for the job's storage account
  blob::BlobUri account;                // that account's endpoint
  http::HttpTransport* transport = nullptr;
};

struct RepairResult {
  std::string job_state;
  std::vector<std::string> drives;  // "<drive id>: <why>" for each drive repaired
  int ranges_resent = 0;
  uint64_t bytes_resent = 0;
  int ranges_already_sent = 0;  // by an earlier repair of this job (the repair record), so not sent again
};

// kFailedPrecondition when the import job has not completed yet (nothing to repair until the datacenter is done).
absl::StatusOr<RepairResult> RepairImport(const RepairOptions& options);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_REPAIR_REPAIR_H_
