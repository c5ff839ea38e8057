// AzureOfflineBackupDiskPrep `s:` / `p:` for Linux: prepares encrypted SATA drives from a staging location and
// creates the import job.
//
// For each chosen drive: checks it (SATA II/III, internal 2.5"/3.5" HDD or 2.5" SSD, at most 10 TB, not the system
// disk), formats it (header with key protector, a new 48-digit recovery password per drive), copies the staged
// page-blob images in ranges of at most 4 MiB (all-zero ranges are skipped) while building the DriveManifest with
// each range's MD5, and spans to the next drive when one is full. Every durable step (format, each range after a
// drive flush, the manifest, the verification) goes to an append-only journal per drive in the staging location,
// so running the same command again after a crash, a pulled drive, a power cut or Ctrl-C resumes at the last
// durable range (re-checking the tail). Each drive is verified (read back, decrypted, every range's MD5 checked)
// before the import job is created with every drive's id, recovery password, manifest path and manifest MD5.
// The staging data is only read.
//
// PrepareDrives orchestrates the pieces: the planner (planner.h: the staged ranges, each drive's journal replayed,
// what is done and what remains), the writer (writer.h: format or unlock, the copy pipeline, the manifest), the
// verifier (verifier.h) and the job submitter (job_submitter.h); drive_checks.h says which drives can be used.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_transport.h"
#include "offline_seed/diskprep/drive_checks.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/drives/drive_source.h"
#include "offline_seed/import_job/model.pb.h"

namespace vmb::offline {

struct DiskPrepOptions {
  std::string staging;
  std::string publish_settings;             // p:, required when not on the source computer
  DriveEnumerator* drive_source = nullptr;  // where the drives are (LinuxDrives, or a test's simulated bay)
  std::vector<std::string> drives;          // all filled at once, each taking the next range still to ship
  std::string control_plane;
  std::string token;
  std::string resource_group = "offlinebackup";
  std::string region = "westeurope";
  uint64_t kdf_n = 1u << 15;
  http::HttpTransport* transport = nullptr;
  std::function<void(const std::string& drive, uint64_t done, uint64_t total)> progress;
  // When the drives are full before every range is on one: false (scripts) returns kResourceExhausted saying what
  // remains and why (a rejected drive is named with its reason, e.g. counterfeit); true (the dialogue, which asks
  // for another drive) returns the result so far with remaining_bytes set and no import job.
  bool return_when_full = false;
};

struct DiskPrepResult {
  std::vector<PreparedDrive> drives;
  ie::proto::Job job;
  ie::proto::Location location;
  bool resumed = false;
  std::vector<std::string> rejected;  // drives given up on, with the reason (their data went to other drives)
  uint64_t remaining_bytes = 0;       // staged data on no drive yet (only with return_when_full)
  absl::Duration copy_time;           // copy pass (read staging, MD5, XTS, write, flush) across drives
  absl::Duration verify_time;         // verify pass
};

absl::StatusOr<DiskPrepResult> PrepareDrives(const DiskPrepOptions& options);

// A rejected drive's entry (DiskPrepResult::rejected, "<drive>: <reason>") as a sentence that names the drive, e.g.
// "drive d1 (serial S) is counterfeit: it holds at most ... of the ... it claims ...; use another drive".
std::string RejectionReason(const std::string& rejected);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_H_
