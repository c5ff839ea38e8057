// The datacenter receiving a package (simulator): checks the job and the arrival time, unlocks each drive with the
// recovery password recorded in the job, checks the on-drive manifest against the job's manifest hash, reads every
// range, checks its MD5 and writes it into the destination page blob (Put Page, all-zero ranges skipped), writes a
// DriveLog XML per drive (error log and verbose log) into the `waimportexport` container, and advances drive and job
// states (Received, Transferring, Completed or CompletedMoreInfo; the job Completed). A corrupted range is reported by
// blob and offset, never written.
#ifndef VMBACKUP_SIMULATORS_IMPORT_EXPORT_DATACENTER_H_
#define VMBACKUP_SIMULATORS_IMPORT_EXPORT_DATACENTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::ie {

struct ReceiveOptions {
  std::string control_plane;
  std::string token;
  std::string subscription;
  std::string resource_group = "offlinebackup";
  std::string job_name;
  std::vector<std::string> drive_images;  // raw images of the received drives
  std::string blob_endpoint;              // the job's storage account (Azurite)
  std::string account_key;                // its key; the development key when empty
  // The datacenter's clock: when the package arrived (the 14-day ship-date rule) and the drive logs' names.
  Clock* clock = &RealClock();
  int parallelism = 4;                                  // concurrent Put Page calls
  absl::Duration request_timeout = absl::Seconds(120);  // per storage call; a call that takes longer is retried
  http::HttpTransport* transport = nullptr;
};

struct DriveOutcome {
  std::string drive_id;
  std::string state;  // Completed | CompletedMoreInfo | NeverReceived (a drive of the job missing from the package)
  std::string error;  // e.g. BitLockerKeyInvalid, ManifestCorrupted, "2 range(s) Corrupted"
  int ranges_written = 0;
  int ranges_skipped_zero = 0;
  int ranges_corrupted = 0;
};

struct ReceiveResult {
  proto::Job job;
  std::vector<DriveOutcome> drives;
  // Drive images whose header could not be read and that could not be matched to a drive of the job (no label, and
  // more than one drive unaccounted for), with why; the job's drives they may be stay NeverReceived.
  std::vector<std::string> unidentified;
};

// A drive that cannot be used does not stop the package: a volume header that cannot be read (no volume, a damaged
// header, unreadable sectors: BitLockerVolumeNotFound; the drive is matched to the job by the serial on its label,
// <image stem>.drive.json, else by elimination), a header that is not the job's (DriveHeaderHashMismatch), a wrong
// key (BitLockerKeyInvalid), an unreadable manifest area (ReadManifestFailed), a manifest that does not match the
// job's hash (ManifestCorrupted) or is not one (ManifestFormatInvalid) ends that drive CompletedMoreInfo with its
// drive logs naming the problem, and the other drives import. The codes are the drive status codes Microsoft
// publishes for Import/Export drive logs, except DriveHeaderHashMismatch, for which none is published.
// Errors: kFailedPrecondition when the job is not Shipping or the drives arrive more than two weeks after the
// shipping details were entered (nothing is processed; the job's drives say why), kNotFound for an unknown job. A job
// left Transferring by an interrupted run is processed again from the start (same bytes to the same pages). Processes a
// package as Azure does: the job goes Received, Transferring, and Packaging once every drive finished (Completed,
// CompletedMoreInfo, or NeverReceived for a drive missing from the package).
absl::StatusOr<ReceiveResult> ReceivePackage(const ReceiveOptions& options);

struct ShipBackOptions {
  std::string control_plane;
  std::string token;
  std::string subscription;
  std::string resource_group = "offlinebackup";
  std::string job_name;
  http::HttpTransport* transport = nullptr;
};

// Return shipping done: a Packaging job becomes Completed (every drive imported cleanly) or Closed (errors), and
// its received drives ShippedBack.
absl::StatusOr<proto::Job> ShipBack(const ShipBackOptions& options);

}  // namespace vmb::ie

#endif  // VMBACKUP_SIMULATORS_IMPORT_EXPORT_DATACENTER_H_
